import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import * as api from '../../api/schemas';
import { ApiClient } from '../client';
import { action, type Context } from '../context';
import { EXIT, usageError, type ExitCode } from '../exitCodes';
import { readDirectory } from '../localFiles';
import { printData, who } from '../output';
import { collectBinding } from '../parse';
import { watchWorkflow } from '../watch';
import { parseSettings } from '../../config/settings';
import { peerEndpointFile } from '../../ledger-peer/endpointFile';
import { registerDataset } from './datasets';
import { verifyReceiptFile } from './receipt';
import { submitWorkflow } from './workflows';

/**
 * `ledgerflow demo`: the thesis's two experiments against a running host (npm start).
 * Each organization (UiS, UiO, UiB) registers its sample dataset with its own token; the
 * consumer leases all three; each owner reviews and approves every run on its dataset
 * (owner consent, on the ledger); the linear workflow lists two of them, the parallel one counts
 * "lorem" in each and adds the counts up. The demo checks both results against the sample
 * data on disk, releases the leases, and shows the parallel run's receipt, checked against
 * the ledger.
 */
const ORGS = ['uis', 'uio', 'uib'] as const;
type Org = (typeof ORGS)[number];

/** The tokens of local.settings.sample.json. */
const SAMPLE_TOKENS: Record<Org, string> = { uis: 'dev-uis', uio: 'dev-uio', uib: 'dev-uib' };

/** Top-level files only, as the thesis's scripts count (os.walk ... break). */
function expectedCount(dir: string): number {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + (readFileSync(join(dir, e.name), 'utf8').match(/lorem/g) ?? []).length, 0);
}

interface DemoOptions {
  examples: string;
  orgToken?: Record<string, string>;
  consumer: string;
}

type Say = (line: string) => void;

/** What the demo needs to run one experiment. */
interface Stage {
  root: string;
  consumer: ApiClient;
  clientOf(org: Org): ApiClient;
  ids: Record<Org, string>;
  output: Context['output'];
  say: Say;
  runs: { workflow: string; id: string; status: string }[];
}

async function runWorkflow(stage: Stage, name: 'linear' | 'parallel', datasets: Partial<Record<Org, string>>): Promise<string | undefined> {
  const file = join(stage.root, name, 'workflow.yaml');
  const { accepted, files } = await submitWorkflow(stage.consumer, { file, dataset: datasets as Record<string, string> });
  stage.say(`   submitted ${accepted.id} (code files: ${files.join(', ') || 'none'})`);
  await ownersApprove(stage, accepted.id);
  const view = await watchWorkflow(stage.consumer, accepted.id, stage.output);
  stage.runs.push({ workflow: name, id: accepted.id, status: view.status });
  if (view.status !== 'Succeeded') return undefined;
  return (await stage.consumer.bytes('GET', `workflows/${encodeURIComponent(accepted.id)}/files/result.txt`)).toString('utf8');
}

/** The run waits until the owner of each other organization's dataset has read exactly
 * what would run (the YAML, each file and its sha256) and approved it on the ledger. */
async function ownersApprove(stage: Stage, id: string): Promise<void> {
  const runPath = `workflows/${encodeURIComponent(id)}`;
  let view = await stage.consumer.json('GET', runPath, api.workflowView);
  // The run lists its approvals once the requests are on the ledger.
  while (view.approvals === undefined && (view.status === 'Pending' || view.status === 'AwaitingApproval')) {
    await new Promise((r) => setTimeout(r, 200));
    view = await stage.consumer.json('GET', runPath, api.workflowView);
  }
  for (const { owner, state } of view.approvals ?? []) {
    if (state !== 'pending') continue;
    const client = stage.clientOf(owner as Org);
    const review = await client.json('GET', `approvals/${encodeURIComponent(id)}`, api.approvalReview);
    const decided = await client.json('POST', `approvals/${encodeURIComponent(id)}/approve`, api.approvalDecided, { body: { comment: 'demo: reviewed' } });
    stage.say(
      `   ${owner} reviews the run (${review.files.map((f) => `${f.path} ${f.sha256.slice(0, 12)}`).join(', ') || 'no files'}; spec ${review.specHash.slice(0, 12)}) and approves: ${decided.items.map((d) => d.datasetName).join(', ')}`,
    );
  }
}

/** Listing 5.1: result.txt lists the UiS files, then the UiO files. */
async function linearExperiment(stage: Stage): Promise<{ result: string; ok: boolean }> {
  stage.say('\n3. the linear workflow (listing 5.1): list the UiS and UiO datasets into result.txt');
  const result = (await runWorkflow(stage, 'linear', { uis: stage.ids.uis, uio: stage.ids.uio })) ?? '';
  const expected = ['uis', 'uio'].flatMap((org) => readdirSync(join(stage.root, 'data', org)).sort());
  const ok = result === `${expected.join('\n')}\n`;
  stage.say(`   result.txt: ${result.trim().split('\n').join(', ')} -> ${ok ? 'as expected' : `EXPECTED ${expected.join(', ')}`}`);
  return { result, ok };
}

/** Listing 5.2: result.txt holds each organization's count of "lorem" and their total. */
async function parallelExperiment(stage: Stage): Promise<{ result: string; total: number | null; expected: number; ok: boolean }> {
  stage.say('\n4. the parallel workflow (listing 5.2): count "lorem" in each dataset, then add up');
  const result = (await runWorkflow(stage, 'parallel', stage.ids)) ?? '';
  const counts = ORGS.map((org) => [org, expectedCount(join(stage.root, 'data', org))] as const);
  const expected = counts.reduce((n, [, c]) => n + c, 0);
  const match = /Total: (\d+)/.exec(result);
  const total = match === null ? null : Number(match[1]);
  const ok = total === expected;
  if (result !== '') stage.say(`   result.txt:\n${result.trimEnd().replace(/^/gm, '     ')}`);
  stage.say(`   total ${total ?? '(none)'}, expected ${expected} (${counts.map(([org, c]) => `${org} ${c}`).join(', ')}) -> ${ok ? 'OK' : 'MISMATCH'}`);
  return { result, total, expected, ok };
}

/** The parallel run's receipt: every ledger transaction of the run with its block, saved and
 * checked against the ledger as an organization (not the host) reads it. Verifying needs the
 * host's data dir on this machine (its embedded peer); elsewhere the demo says how. */
async function showReceipt(stage: Stage, id: string): Promise<{ file: string; transactions: number; verified?: boolean }> {
  stage.say(`\n6. the receipt of the parallel run: every ledger transaction of ${id}`);
  const path = `workflows/${encodeURIComponent(id)}/receipt`;
  let receipt = await stage.consumer.json('GET', path, api.workflowReceipt);
  // The cleanup is recorded shortly after the run ends.
  for (let waited = 0; receipt.run.cleanup === null && waited < 10_000; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    receipt = await stage.consumer.json('GET', path, api.workflowReceipt);
  }
  for (const t of receipt.transactions) stage.say(`   block ${String(t.blockNumber).padStart(4)}  tx ${t.txId.slice(0, 12)}  ${t.kind}`);
  const file = join(tmpdir(), `ledgerflow-receipt-${id}.json`);
  writeFileSync(file, `${JSON.stringify(receipt, null, 2)}\n`);
  stage.say(`   saved to ${file} (ledgerflow workflows receipt ${id} -o <file> does the same)`);
  if (!existsSync(peerEndpointFile(resolve(parseSettings(process.env).LEDGERFLOW_DATA_DIR)))) {
    stage.say(`   check it on the host's machine: ledgerflow receipt verify ${file}`);
    return { file, transactions: receipt.transactions.length };
  }
  try {
    const verified = await verifyReceiptFile(file);
    stage.say(`   ledgerflow receipt verify ${file}: ok, ${verified.transactions} writes checked on the ledger as ${verified.as}`);
    return { file, transactions: receipt.transactions.length, verified: true };
  } catch (err) {
    stage.say(`   ledgerflow receipt verify ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return { file, transactions: receipt.transactions.length, verified: false };
  }
}

async function demo(ctx: Context, o: DemoOptions): Promise<ExitCode> {
  const say: Say = (line) => {
    if (!ctx.output.structured) ctx.output.out(`${line}\n`);
  };
  if (!(ORGS as readonly string[]).includes(o.consumer)) throw usageError(`--consumer must be one of ${ORGS.join(', ')}`);
  const root = resolve(o.examples);
  const tokens = { ...SAMPLE_TOKENS, ...(o.orgToken ?? {}) } as Record<Org, string>;
  const clientOf = (org: Org) => new ApiClient(ctx.config.endpoint, tokens[org]);
  const consumer = clientOf(o.consumer as Org);

  say(`ledgerflow demo against ${ctx.config.endpoint}`);
  const health = await consumer.json('GET', 'health', api.health);
  say(`host is up (version ${health.version}, ledger ${health.adapters['ledger'] ?? '?'}, compute ${health.adapters['compute'] ?? '?'})\n`);

  say('1. each organization registers its sample dataset');
  const ids = {} as Record<Org, string>;
  for (const org of ORGS) {
    const files = readDirectory(join(root, 'data', org));
    const d = await registerDataset(clientOf(org), { name: `${org}-lorem`, description: `thesis demo: ${org.toUpperCase()} text files`, files });
    ids[org] = d.id;
    say(`   ${org}: ${d.id} (${Object.keys(files).length} files, owner ${who(d.owner)})`);
  }

  say(`\n2. the consumer (${o.consumer}) leases the three datasets on the ledger`);
  const leases: api.LeaseTaken[] = [];
  for (const org of ORGS) {
    const lease = await consumer.json('POST', `datasets/${ids[org]}/lease`, api.leaseTaken, { body: { ttlSeconds: 3600 } });
    leases.push(lease);
    say(`   ${org}: leased to ${who(lease.holder)} until ${lease.expiresAt}`);
  }

  const stage: Stage = { root, consumer, clientOf, ids, output: ctx.output, say, runs: [] };
  let linear: Awaited<ReturnType<typeof linearExperiment>>;
  let parallel: Awaited<ReturnType<typeof parallelExperiment>>;
  try {
    linear = await linearExperiment(stage);
    parallel = await parallelExperiment(stage);
  } finally {
    // However the runs end, the datasets go back to their owners.
    say('\n5. the consumer releases the leases; the ledger keeps the history');
    for (const org of ORGS) await consumer.empty('DELETE', `datasets/${ids[org]}/lease`);
  }
  const history = await consumer.json('GET', `datasets/${ids.uis}/history`, api.history);
  say(`   history of ${ids.uis} (uis): ${history.items.map((e) => e.action).join(', ')}`);

  const parallelRun = stage.runs.find((r) => r.workflow === 'parallel');
  const receipt = parallelRun === undefined ? undefined : await showReceipt(stage, parallelRun.id);

  const ok = linear.ok && parallel.ok && receipt?.verified !== false;
  if (ctx.output.structured) printData(ctx.output, { datasets: ids, leases, workflows: stage.runs, linear, parallel, receipt, ok });
  else say(`\n${ok ? 'demo OK' : 'demo FAILED'}: see \`ledgerflow workflows logs <id>\` for each job's output`);
  return ok ? EXIT.ok : EXIT.failure;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description("run the thesis's linear and parallel experiments against a running host (npm start) with the sample tokens")
    .option('--examples <dir>', 'the examples/thesis directory', resolve(__dirname, '../../../../examples/thesis'))
    .option('--org-token <org=token>', 'token of an organization (default: dev-uis, dev-uio, dev-uib from local.settings.sample.json)', collectBinding)
    .option('--consumer <org>', 'the organization that leases the datasets and runs the workflows', 'uis')
    .action(action(async (ctx, o: DemoOptions) => demo(ctx, o)));
}
