import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import * as api from '../../api/schemas';
import { ApiClient } from '../client';
import { action, type Context } from '../context';
import { EXIT, usageError, type ExitCode } from '../exitCodes';
import { readDirectory } from '../localFiles';
import { printJson, who } from '../output';
import { collectBinding } from '../parse';
import { watchWorkflow } from '../watch';
import { registerDataset } from './datasets';
import { submitWorkflow } from './workflows';

/**
 * `ledgerflow demo`: the thesis's two experiments against a running host (npm start).
 * Each organization (UiS, UiO, UiB) registers its sample dataset with its own token; the
 * consumer leases all three; the linear workflow lists two of them, the parallel one counts
 * "lorem" in each and adds the counts up. The demo checks both results against the sample
 * data on disk and releases the leases.
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

async function demo(ctx: Context, o: DemoOptions): Promise<ExitCode> {
  const say = (line: string) => {
    if (!ctx.output.json) ctx.output.out(`${line}\n`);
  };
  const root = resolve(o.examples);
  const tokens = { ...SAMPLE_TOKENS, ...(o.orgToken ?? {}) } as Record<Org, string>;
  const clientOf = (org: Org) => new ApiClient(ctx.config.endpoint, tokens[org]);
  if (!(ORGS as readonly string[]).includes(o.consumer)) throw usageError(`--consumer must be one of ${ORGS.join(', ')}`);
  const consumer = clientOf(o.consumer as Org);

  say(`ledgerflow demo against ${ctx.config.endpoint}`);
  const health = await consumer.json('GET', 'health', api.health);
  say(`host is up (version ${health.version}, ledger ${health.adapters['ledger'] ?? '?'}, compute ${health.adapters['compute'] ?? '?'})\n`);

  say('1. each organization registers its sample dataset');
  const ids = {} as Record<Org, string>;
  for (const org of ORGS) {
    const dir = join(root, 'data', org);
    const files = readDirectory(dir);
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

  const runs: { workflow: string; id: string; status: string }[] = [];
  const run = async (name: 'linear' | 'parallel', datasets: Partial<Record<Org, string>>) => {
    const file = join(root, name, 'workflow.yaml');
    const { accepted, files } = await submitWorkflow(consumer, { file, dataset: datasets as Record<string, string> });
    say(`   submitted ${accepted.id} (code files: ${files.join(', ') || 'none'})`);
    const view = await watchWorkflow(consumer, accepted.id, ctx.output);
    runs.push({ workflow: name, id: accepted.id, status: view.status });
    return view;
  };

  say('\n3. the linear workflow (listing 5.1): list the UiS and UiO datasets into result.txt');
  const linear = await run('linear', { uis: ids.uis, uio: ids.uio });
  const listing = linear.status === 'Succeeded' ? (await consumer.bytes('GET', `workflows/${linear.id}/files/result.txt`)).toString('utf8') : '';
  const expectedListing = ['uis', 'uio'].flatMap((org) => readdirSync(join(root, 'data', org)).sort()).join('\n') + '\n';
  const linearOk = listing === expectedListing;
  say(`   result.txt: ${listing.trim().split('\n').join(', ')} -> ${linearOk ? 'as expected' : `EXPECTED ${expectedListing.trim().split('\n').join(', ')}`}`);

  say('\n4. the parallel workflow (listing 5.2): count "lorem" in each dataset, then add up');
  const parallel = await run('parallel', ids);
  const result = parallel.status === 'Succeeded' ? (await consumer.bytes('GET', `workflows/${parallel.id}/files/result.txt`)).toString('utf8') : '';
  const expected = Object.fromEntries(ORGS.map((org) => [org, expectedCount(join(root, 'data', org))])) as Record<Org, number>;
  const expectedTotal = ORGS.reduce((n, org) => n + expected[org], 0);
  const total = Number(/Total: (\d+)/.exec(result)?.[1] ?? NaN);
  const parallelOk = total === expectedTotal;
  if (result !== '') say(`   result.txt:\n${result.trimEnd().replace(/^/gm, '     ')}`);
  say(`   total ${Number.isNaN(total) ? '(none)' : total}, expected ${expectedTotal} (${ORGS.map((org) => `${org} ${expected[org]}`).join(', ')}) -> ${parallelOk ? 'OK' : 'MISMATCH'}`);

  say('\n5. the consumer releases the leases; the ledger keeps the history');
  for (const org of ORGS) await consumer.empty('DELETE', `datasets/${ids[org]}/lease`);
  const history = await consumer.json('GET', `datasets/${ids.uis}/history`, api.history);
  say(`   history of ${ids.uis} (uis): ${history.items.map((e) => e.action).join(', ')}`);

  const ok = linearOk && parallelOk;
  if (ctx.output.json) {
    printJson(ctx.output, { datasets: ids, leases, workflows: runs, linear: { result: listing, ok: linearOk }, parallel: { result, total, expected: expectedTotal, ok: parallelOk }, ok });
  } else {
    say(`\n${ok ? 'demo OK' : 'demo FAILED'}: see \`ledgerflow workflows logs <id>\` for each job's output`);
  }
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
