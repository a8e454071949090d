import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Command } from 'commander';
import * as api from '../../api/schemas';
import { FabricLedger, fileIdentities } from '../../adapters/ledger';
import { verifyReceipt } from '../../app/workflows/receipts';
import { parseSettings } from '../../config/settings';
import type { Caller } from '../../core/model';
import type { OutputFile, Receipt } from '../../core/receipt';
import { mspRoot } from '../../ledger-peer/localCa';
import { peerEndpointFile } from '../../ledger-peer/endpointFile';
import { action } from '../context';
import { CliError, EXIT, usageError } from '../exitCodes';
import { fields, printData } from '../output';

/**
 * `ledgerflow receipt verify <receipt.json> [--files <dir>]`: checks a run's receipt against
 * the ledger itself, not the host that wrote it. Each transaction is read through the peer's
 * gateway with an organization's own identity (Fabric's qscc GetTransactionByID and
 * GetBlockByTxID, as on any Fabric network): in the named block, VALID, writing the value
 * shown; the summary and the hash chain follow from those values; with --files, every
 * downloaded file matches the sha256 recorded for the run's outputs. Exit 0 when all holds,
 * 1 with the first mismatch named.
 *
 * Which ledger: --peer (or FABRIC_PEER_ENDPOINT) with --identity-dir (or FABRIC_IDENTITY_DIR,
 * `<dir>/<org>/users/<user>/{cert,key}.pem`) for a Fabric network; otherwise the embedded peer
 * of --data-dir (or LEDGERFLOW_DATA_DIR), found through the endpoint file it writes, with
 * the identities its CAs issued there.
 */

export interface VerifyOptions {
  files?: string;
  dataDir?: string;
  peer?: string;
  tlsRootCert?: string;
  identityDir?: string;
  channel?: string;
  org?: string;
  user?: string;
}

export function receiptCommand(): Command {
  const receipt = new Command('receipt').description("a run's receipt: its ledger transactions, checked against the ledger");
  receipt
    .command('verify')
    .description('check a receipt (ledgerflow workflows receipt <id> -o receipt.json) against the ledger; exit 1 naming the first mismatch')
    .argument('<receipt.json>', 'the receipt')
    .option('--files <dir>', "also check the run's downloaded output files in this directory against the recorded sha256")
    .option('--data-dir <dir>', 'the embedded ledger of this data dir (default LEDGERFLOW_DATA_DIR)')
    .option('--peer <host:port>', "a Fabric peer's gateway endpoint (default FABRIC_PEER_ENDPOINT)")
    .option('--tls-root-cert <file>', "the peer's TLS root certificate (default FABRIC_TLS_ROOT_CERT)")
    .option('--identity-dir <dir>', "where organizations' identities are: <dir>/<org>/users/<user>/{cert.pem,key.pem} (default FABRIC_IDENTITY_DIR)")
    .option('--channel <name>', 'the channel (default FABRIC_CHANNEL)')
    .option('--org <org>', "whose identity asks the ledger (default the run's requester organization)")
    .option('--user <user>', 'which user of that organization (default the first with an identity)')
    .action(
      action(async (ctx, file: string, o: VerifyOptions) => {
        const result = await verifyReceiptFile(file, o);
        if (ctx.output.structured) return printData(ctx.output, result);
        ctx.output.out(
          fields([
            ['receipt', `ok: ${result.transactions} ledger writes verified`],
            ['workflow', result.workflowId],
            ['ledger', `${result.channel} at ${result.peer}, asked as ${result.as}`],
            ...(result.files === undefined ? [] : [['files', `${result.files} match the recorded sha256`] as const]),
          ]),
        );
      }),
    );
  return receipt;
}

export interface ReceiptVerified {
  ok: true;
  workflowId: string;
  transactions: number;
  channel: string;
  peer: string;
  as: string;
  files?: number;
}

/** Verifies a receipt file against the ledger; throws a CliError naming the first mismatch. */
export async function verifyReceiptFile(file: string, o: VerifyOptions = {}): Promise<ReceiptVerified> {
  const parsed = readReceipt(file);
  const connection = ledgerConnection(o, parsed);
  const ledger = new FabricLedger({
    endpoint: connection.endpoint,
    ...(connection.tlsRootCert === undefined ? {} : { tlsRootCert: connection.tlsRootCert }),
    channel: connection.channel,
    chaincode: parsed.ledger.chaincode,
    identities: fileIdentities(connection.identityDir, parseSettings(process.env).FABRIC_MSP_IDS),
    serviceCaller: connection.caller,
  });
  let check;
  try {
    check = await verifyReceipt(parsed, ledger.as(connection.caller), connection.channel);
  } finally {
    await ledger.close();
  }
  if (!check.ok) throw new CliError(EXIT.failure, 'receipt_mismatch', check.mismatch, [], { transactionsVerified: check.transactions });
  const files = o.files === undefined ? undefined : checkFiles(parsed, resolve(o.files));
  return {
    ok: true,
    workflowId: parsed.workflowId,
    transactions: check.transactions,
    channel: connection.channel,
    peer: connection.endpoint,
    as: `${connection.caller.user}@${connection.caller.org}`,
    ...(files === undefined ? {} : { files }),
  };
}

function readReceipt(file: string): Receipt {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw usageError(`cannot read the receipt ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = api.workflowReceipt.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new CliError(EXIT.failure, 'receipt_mismatch', `${first?.path.join('.') ?? 'receipt'}: ${first?.message ?? 'not a receipt'}`);
  }
  return parsed.data;
}

function ledgerConnection(
  o: VerifyOptions,
  receipt: Receipt,
): { endpoint: string; tlsRootCert?: string; channel: string; identityDir: string; caller: Caller } {
  const settings = parseSettings(process.env);
  const peer = o.peer ?? settings.FABRIC_PEER_ENDPOINT;
  let endpoint: string;
  let tlsRootCert: string | undefined;
  let channel = o.channel ?? settings.FABRIC_CHANNEL;
  let identityDir = o.identityDir ?? settings.FABRIC_IDENTITY_DIR;
  if (peer !== '') {
    endpoint = peer;
    const certFile = o.tlsRootCert ?? settings.FABRIC_TLS_ROOT_CERT;
    if (certFile !== '') tlsRootCert = readFileSync(certFile, 'utf8');
    if (identityDir === '') throw usageError('--identity-dir (or FABRIC_IDENTITY_DIR) is needed with --peer: an organization identity asks the ledger');
  } else {
    const dataDir = resolve(o.dataDir ?? settings.LEDGERFLOW_DATA_DIR);
    const found = readEndpointFile(dataDir);
    endpoint = found.endpoint;
    tlsRootCert = found.tlsRootCert;
    channel = o.channel ?? found.channel;
    if (identityDir === '') identityDir = mspRoot(dataDir);
  }
  const org = o.org ?? requesterOrg(receipt);
  if (org === undefined) throw usageError('--org is needed: the receipt names no requester organization');
  const user = o.user ?? firstUser(identityDir, org);
  return { endpoint, ...(tlsRootCert === undefined ? {} : { tlsRootCert }), channel, identityDir, caller: { org, user } };
}

function readEndpointFile(dataDir: string): { endpoint: string; channel: string; tlsRootCert?: string } {
  const file = peerEndpointFile(dataDir);
  if (!existsSync(file))
    throw new CliError(EXIT.unavailable, 'unavailable', `no embedded peer is running for ${dataDir} (start the host, or name a Fabric peer with --peer)`);
  const found = JSON.parse(readFileSync(file, 'utf8')) as { endpoint: string; channel: string; tlsRootCert?: string };
  return found;
}

/** The organization that launched the run, or asked the owners' approval, per its records. */
function requesterOrg(receipt: Receipt): string | undefined {
  for (const t of receipt.transactions) {
    const v = (typeof t.value === 'object' && t.value !== null ? t.value : {}) as { launchedBy?: { org?: unknown }; requester?: { org?: unknown } };
    const org = v.launchedBy?.org ?? v.requester?.org;
    if (typeof org === 'string') return org;
  }
  return undefined;
}

function firstUser(identityDir: string, org: string): string {
  const dir = join(identityDir, org, 'users');
  const users = existsSync(dir) ? readdirSync(dir).sort() : [];
  const user = users.find((u) => existsSync(join(dir, u, 'cert.pem')));
  if (user === undefined) throw usageError(`no identity of ${org} under ${identityDir} (name one with --org and --user)`);
  return user;
}

/** Every regular file under `dir` must be one of the run's recorded outputs, with its size
 * and sha256. Returns how many were checked. */
function checkFiles(receipt: Receipt, dir: string): number {
  const outputs = receipt.run.outputs;
  if (outputs === null) throw new CliError(EXIT.failure, 'receipt_mismatch', 'files: the receipt records no outputs to check downloaded files against');
  const recorded = new Map<string, OutputFile>(outputs.files.map((f) => [f.path, f]));
  let checked = 0;
  for (const path of regularFiles(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const expected = recorded.get(name);
    if (expected === undefined) throw new CliError(EXIT.failure, 'receipt_mismatch', `files: ${name} is not among the run's recorded outputs`);
    const content = readFileSync(path);
    const digest = createHash('sha256').update(content).digest('hex');
    if (digest !== expected.sha256 || content.length !== expected.size) {
      throw new CliError(
        EXIT.failure,
        'receipt_mismatch',
        `files: ${name} has sha256 ${digest} (${content.length} bytes), the ledger recorded ${expected.sha256} (${expected.size} bytes) in tx ${outputs.txId}`,
      );
    }
    checked += 1;
  }
  if (checked === 0) throw new CliError(EXIT.failure, 'receipt_mismatch', `files: no files under ${dir}`);
  return checked;
}

function regularFiles(dir: string): string[] {
  if (!existsSync(dir)) throw usageError(`--files: no directory ${dir}`);
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...regularFiles(path));
    else if (lstatSync(path).isFile()) found.push(path);
  }
  return found.sort();
}
