import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'fabric-contract-api';
import { conflict, validationFailed } from './errors';

/**
 * Time the chaincode can trust. The transaction timestamp is chosen by the submitting
 * client and no peer checks it, yet every rule about "when" (lease expiry, takeover, a
 * launch under a current lease) reads it. So each endorser refuses a proposal whose
 * timestamp is missing or further than the allowed skew from its own clock, and a change
 * to a dataset dated before the dataset's last committed change. Both are guards: they
 * decide accept or refuse and never what is written, so honest endorsers still produce
 * identical read/write sets whatever their clocks read.
 *
 * The skew is part of the chaincode package, so every peer that installed the package every
 * organization approved applies the same one: `ledgerflow.json` beside `dist/`
 * (`{"maxClockSkewSeconds": n}`, written by infra/fabric/package.sh from
 * LEDGER_MAX_CLOCK_SKEW_SECONDS), else 30. The variable in the chaincode process's own
 * environment overrides it, for the embedded peer and chaincode-as-a-service deployments.
 * A peer configured differently only endorses more or less than the others; it cannot
 * make them disagree on bytes.
 */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 30;
const SKEW_SETTING = 'LEDGER_MAX_CLOCK_SKEW_SECONDS';
const MAX_SKEW_LIMIT_SECONDS = 3600;
const PACKAGED_CONFIG = join(__dirname, '..', 'ledgerflow.json');

let cached: { raw: string | undefined; seconds: number } | undefined;

/** The value the package carries, as text (undefined when it carries none). */
function packagedSkew(): string | undefined {
  if (!existsSync(PACKAGED_CONFIG)) return undefined;
  const config = JSON.parse(readFileSync(PACKAGED_CONFIG, 'utf8')) as { maxClockSkewSeconds?: unknown };
  return config.maxClockSkewSeconds === undefined ? undefined : String(config.maxClockSkewSeconds);
}

/** The configured skew; a malformed value refuses every transaction rather than guess. */
export function maxClockSkewSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[SKEW_SETTING];
  if (cached !== undefined && cached.raw === fromEnv) return cached.seconds;
  const raw = fromEnv ?? packagedSkew();
  const seconds = raw === undefined || raw === '' ? DEFAULT_MAX_CLOCK_SKEW_SECONDS : Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_SKEW_LIMIT_SECONDS) {
    throw validationFailed(`the chaincode is misconfigured: ${SKEW_SETTING} must be a whole number of seconds from 1 to ${MAX_SKEW_LIMIT_SECONDS}`);
  }
  cached = { raw: fromEnv, seconds };
  return seconds;
}

/** The proposal's timestamp in milliseconds; a missing or zero one is refused (Fabric's
 * shim throws on a missing one, the embedded peer reads it as zero). */
export function proposalMillis(ctx: Context): number {
  let millis: number;
  try {
    const ts = ctx.stub.getTxTimestamp();
    const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
    millis = seconds * 1000 + Math.floor(ts.nanos / 1e6);
  } catch {
    millis = 0;
  }
  if (!Number.isFinite(millis) || millis <= 0) throw validationFailed('the proposal has no timestamp');
  return millis;
}

/** Refuses a proposal timestamp outside [endorser clock - skew, endorser clock + skew]. */
export function checkProposalTime(txMillis: number, endorserMillis: number, skewSeconds: number): void {
  const offsetSeconds = (txMillis - endorserMillis) / 1000;
  if (Math.abs(offsetSeconds) <= skewSeconds) return;
  const direction = offsetSeconds > 0 ? 'ahead of' : 'behind';
  throw validationFailed(
    `the proposal timestamp is ${Math.round(Math.abs(offsetSeconds))} s ${direction} the endorser's clock (at most ${skewSeconds} s allowed): check the client's clock`,
    { maxClockSkewSeconds: skewSeconds },
  );
}

/** Refuses a change dated before the last committed change of the same dataset. */
export function checkMonotonic(datasetId: string, txMillis: number, lastCommittedMillis: number | undefined): void {
  if (lastCommittedMillis === undefined || txMillis >= lastCommittedMillis) return;
  throw conflict(`the proposal timestamp is earlier than the last change of dataset ${datasetId} (${new Date(lastCommittedMillis).toISOString()})`);
}
