import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import * as api from '../../api/schemas';
import type { ApiClient } from '../client';
import { action, formatOption, type Context } from '../context';
import { usageError } from '../exitCodes';
import { DEFAULT_MAX_UPLOAD_BYTES, readDirectory } from '../localFiles';
import { bytes, fields, printData, printOne, printRows, who } from '../output';
import { addPagingOptions, fetchPages, printMore, type Paging } from '../paging';
import { parseDuration } from '../parse';

/** `ledgerflow datasets ...`: register, upload, list, show, update, tree, delete. */

interface RegisterOptions {
  name?: string;
  description?: string;
  leaseTtl?: number;
  maxLeaseTtl?: number;
  approval?: 'required' | 'none';
  results?: 'release' | 'review';
  maxResultBytes?: number;
  localPath?: string;
  azureShareUrl?: string;
  azureCredentialEnv?: string;
  maxBytes: number;
  quiet?: boolean;
}

/** The policy fields the owner named (the server keeps the rest). */
type PolicyOptions = Pick<RegisterOptions, 'leaseTtl' | 'maxLeaseTtl' | 'approval' | 'results' | 'maxResultBytes'>;

function policyOf(o: PolicyOptions): Record<string, unknown> {
  return {
    ...(o.leaseTtl === undefined ? {} : { leaseTtlSeconds: o.leaseTtl }),
    ...(o.maxLeaseTtl === undefined ? {} : { maxLeaseTtlSeconds: o.maxLeaseTtl }),
    ...(o.approval === undefined ? {} : { approval: o.approval }),
    ...(o.results === undefined ? {} : { results: o.results }),
    ...(o.maxResultBytes === undefined ? {} : { maxResultBytes: o.maxResultBytes }),
  };
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw usageError(`${value} is not a positive whole number`);
  return n;
}

const approvalOption = () =>
  new Option('--approval <policy>', "required (default): a lessee's run waits for your approval of its exact spec and files; none: opt out").choices([
    'required',
    'none',
  ]);

function registerBody(dir: string | undefined, o: RegisterOptions): Record<string, unknown> {
  if (dir === undefined && o.localPath === undefined && o.azureShareUrl === undefined) {
    throw usageError('name a directory to upload, or existing storage with --local-path or --azure-share-url');
  }
  if (o.localPath !== undefined && o.azureShareUrl !== undefined) throw usageError('--local-path and --azure-share-url exclude each other');
  const name = o.name ?? (dir === undefined ? undefined : basename(resolve(dir)));
  if (name === undefined) throw usageError('--name is required when no directory is given');
  let source: Record<string, string> | undefined;
  if (o.localPath !== undefined) source = { kind: 'local', path: resolve(o.localPath) };
  if (o.azureShareUrl !== undefined) {
    const credential = o.azureCredentialEnv === undefined ? undefined : process.env[o.azureCredentialEnv];
    // The credential is read from the environment so it never sits in shell history.
    if (credential === undefined || credential === '')
      throw usageError('--azure-share-url needs --azure-credential-env NAME, naming a set environment variable that holds the SAS token or account key');
    source = { kind: 'azure-files', shareUrl: o.azureShareUrl, credential };
  }
  const policy = policyOf(o);
  return {
    name,
    ...(o.description === undefined ? {} : { description: o.description }),
    ...(Object.keys(policy).length === 0 ? {} : { policy }),
    ...(source === undefined ? {} : { source }),
    ...(dir === undefined ? {} : { files: readDirectory(dir, o.maxBytes) }),
  };
}

export function registerDataset(client: ApiClient, body: Record<string, unknown>): Promise<api.Dataset> {
  return client.json('POST', 'datasets', api.dataset, { body });
}

function showDataset(ctx: Context, d: api.Dataset | api.DeletedDataset): void {
  printOne(ctx.output, d, d.id, () =>
    ctx.output.out(
      fields([
        ['id', d.id],
        ['name', d.name],
        ...(d.description === '' ? [] : [['description', d.description] as const]),
        ['owner', who(d.owner)],
        ['state', d.state],
        ['lease', d.lease === null ? '-' : `${who(d.lease.holder)} until ${d.lease.expiresAt}`],
        ['lease policy', `default ${d.policy.leaseTtlSeconds}s, at most ${d.policy.maxLeaseTtlSeconds}s`],
        ['approval', d.policy.approval],
        ['results', d.policy.maxResultBytes === undefined ? d.policy.results : `${d.policy.results}, at most ${d.policy.maxResultBytes} bytes`],
        ['storage', d.storageKind],
        ['version', d.contentHash === null ? String(d.version) : `${d.version} (content ${d.contentHash})`],
        ['created', d.createdAt],
        ...(d.deletedAt === undefined ? [] : [['deleted', d.deletedAt] as const]),
      ]),
    ),
  );
}

const ttlOption = (flags: string, description: string) => new Option(flags, `${description} (seconds, or 90s, 30m, 2h, 1d)`).argParser(parseDuration);

function addRegisterOptions(command: Command): Command {
  return command
    .option('--name <name>', "the dataset's name (default: the directory's name)")
    .option('--description <text>', 'what the dataset holds')
    .addOption(ttlOption('--lease-ttl <duration>', 'lease length when a taker names none'))
    .addOption(ttlOption('--max-lease-ttl <duration>', 'longest lease a taker may ask for'))
    .addOption(approvalOption())
    .addOption(
      new Option('--results <policy>', "release (default): a run's outputs go to its requester when it ends; review: only once you release them").choices([
        'release',
        'review',
      ]),
    )
    .addOption(new Option('--max-result-bytes <n>', "the most bytes a run's outputs (files and logs) may take together").argParser(positiveInteger))
    .option('--max-bytes <n>', 'refuse uploads larger than this', (v) => Number(v), DEFAULT_MAX_UPLOAD_BYTES)
    .option('-q, --quiet', 'print only the new dataset id (for scripts: ID=$(ledgerflow datasets register dir -q))');
}

function printRegistered(ctx: Context, d: api.Dataset, quiet: boolean | undefined): void {
  if (ctx.output.structured) return printData(ctx.output, d);
  ctx.output.out(quiet === true ? `${d.id}\n` : `registered ${d.id} (${d.name}, owner ${who(d.owner)})\n`);
}

export function datasetsCommand(): Command {
  const datasets = new Command('datasets').description('register, inspect and delete datasets');

  addRegisterOptions(
    datasets
      .command('register')
      .description("register a dataset owned by your organization: upload a directory's files, or adopt existing storage")
      .argument('[dir]', 'a local directory whose files become the dataset (UTF-8 text files; hidden files and symlinks are skipped)')
      .option('--local-path <path>', "adopt a directory on the host's machine (under its LOCAL_DATASET_ROOTS)")
      .option('--azure-share-url <url>', 'adopt an Azure Files share (https://<account>.file.core.windows.net/<share>[/<dir>])')
      .option('--azure-credential-env <name>', 'environment variable holding the share SAS token or account key'),
  ).action(
    action(async (ctx, dir: string | undefined, o: RegisterOptions) => {
      printRegistered(ctx, await registerDataset(ctx.client, registerBody(dir, o)), o.quiet);
    }),
  );

  addRegisterOptions(
    datasets
      .command('upload')
      .description('register a new dataset from the files of a local directory (register <dir>)')
      .argument('<dir>', 'the directory to upload'),
  ).action(
    action(async (ctx, dir: string, o: RegisterOptions) => {
      printRegistered(ctx, await registerDataset(ctx.client, registerBody(dir, o)), o.quiet);
    }),
  );

  addPagingOptions(
    datasets
      .command('list')
      .description('list datasets with their lease state')
      .option('--owner <org>', 'only datasets of this organization')
      .addOption(new Option('--state <state>', 'only leased or free datasets').choices(['leased', 'free']))
      .addOption(formatOption()),
    100,
    50,
  ).action(
    action(async (ctx, o: Paging & { owner?: string; state?: string }) => {
      const page = await fetchPages(ctx.client, 'datasets', api.datasetPage, { owner: o.owner, state: o.state }, o);
      printRows(
        ctx.output,
        page,
        page.items,
        {
          columns: [
            ['ID', (d) => d.id],
            ['NAME', (d) => d.name],
            ['OWNER', (d) => who(d.owner)],
            ['STATE', (d) => d.state],
            ['HOLDER', (d) => (d.lease === null ? '' : who(d.lease.holder))],
            ['EXPIRES', (d) => d.lease?.expiresAt ?? ''],
          ],
          wide: [
            ['APPROVAL', (d) => d.policy.approval],
            ['RESULTS', (d) => d.policy.results],
            ['STORAGE', (d) => d.storageKind],
            ['CREATED', (d) => d.createdAt],
            ['DESCRIPTION', (d) => d.description],
          ],
          name: (d) => d.id,
        },
        'no datasets',
      );
      printMore(ctx.output, page.nextCursor, 'datasets list');
    }),
  );

  datasets
    .command('show')
    .description('show a dataset')
    .argument('<id>', 'dataset id')
    .addOption(formatOption())
    .action(action(async (ctx, id: string) => showDataset(ctx, await ctx.client.json('GET', `datasets/${encodeURIComponent(id)}`, api.dataset))));

  datasets
    .command('update')
    .description("change a dataset's name, description or lease policy (owner only)")
    .argument('<id>', 'dataset id')
    .option('--name <name>', 'new name')
    .option('--description <text>', 'new description')
    .addOption(ttlOption('--lease-ttl <duration>', 'lease length when a taker names none'))
    .addOption(ttlOption('--max-lease-ttl <duration>', 'longest lease a taker may ask for'))
    .addOption(approvalOption())
    .addOption(
      new Option('--results <policy>', "release: a run's outputs go to its requester when it ends; review: only once you release them").choices([
        'release',
        'review',
      ]),
    )
    .addOption(new Option('--max-result-bytes <n>', "the most bytes a run's outputs (files and logs) may take together").argParser(positiveInteger))
    .action(
      action(async (ctx, id: string, o: Pick<RegisterOptions, 'name' | 'description'> & PolicyOptions) => {
        const policy = policyOf(o);
        const body = {
          ...(o.name === undefined ? {} : { name: o.name }),
          ...(o.description === undefined ? {} : { description: o.description }),
          ...(Object.keys(policy).length === 0 ? {} : { policy }),
        };
        if (Object.keys(body).length === 0)
          throw usageError('nothing to change: give --name, --description, --lease-ttl, --max-lease-ttl, --approval, --results or --max-result-bytes');
        showDataset(ctx, await ctx.client.json('PATCH', `datasets/${encodeURIComponent(id)}`, api.dataset, { body }));
      }),
    );

  addPagingOptions(
    datasets.command('tree').description("list a dataset's files (owner or current lease holder)").argument('<id>', 'dataset id').addOption(formatOption()),
    1000,
    200,
  ).action(
    action(async (ctx, id: string, o: Paging) => {
      const page = await fetchPages(ctx.client, `datasets/${encodeURIComponent(id)}/tree`, api.treePage, {}, o);
      printRows(
        ctx.output,
        page,
        page.items,
        {
          columns: [
            ['PATH', (e) => (e.type === 'directory' ? `${e.path}/` : e.path)],
            ['SIZE', (e) => bytes(e.size)],
          ],
          wide: [
            ['TYPE', (e) => e.type],
            ['BYTES', (e) => (e.size === undefined ? '' : String(e.size))],
          ],
          name: (e) => e.path,
        },
        'no files',
      );
      printMore(ctx.output, page.nextCursor, `datasets tree ${id}`);
    }),
  );

  datasets
    .command('push')
    .description("add a new version of your organization's dataset from a local directory's files (recorded on the ledger)")
    .argument('<id>', 'dataset id')
    .argument('<dir>', 'the files to add or replace (UTF-8 text files; hidden files and symlinks are skipped)')
    .option('--replace', "the directory's files become the whole content (default: they are added to the current version)")
    .option('--max-bytes <n>', 'refuse uploads larger than this', (v) => Number(v), DEFAULT_MAX_UPLOAD_BYTES)
    .action(
      action(async (ctx, id: string, dir: string, o: { replace?: boolean; maxBytes: number }) => {
        const body = { files: readDirectory(dir, o.maxBytes), replace: o.replace === true };
        showDataset(ctx, await ctx.client.json('PUT', `datasets/${encodeURIComponent(id)}/files`, api.dataset, { body }));
      }),
    );

  datasets
    .command('delete')
    .description('delete a dataset and purge its key (owner only)')
    .argument('<id>', 'dataset id')
    .action(
      action(async (ctx, id: string) => {
        const d = await ctx.client.json('DELETE', `datasets/${encodeURIComponent(id)}`, api.deletedDataset);
        if (ctx.output.structured) return printData(ctx.output, d);
        ctx.output.out(`deleted ${d.id}; key ${d.cryptoShred.purged ? 'purged' : `not purged: ${d.cryptoShred.reason ?? 'kept by the key store'}`}\n`);
      }),
    );

  return datasets;
}
