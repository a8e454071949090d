import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import type { ApiClient, Query } from './client';
import { CliError, EXIT } from './exitCodes';
import type { Output } from './output';
import { parsePositiveInt } from './parse';

/**
 * Paging of the list verbs, one way for all: a page of `--limit` items from `--cursor` (the
 * API's `nextCursor`), or with `--all` every page until the API gives no `nextCursor`.
 */
export interface Paging {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

interface Page {
  items: unknown[];
  nextCursor?: string | undefined;
}

export function addPagingOptions(command: Command, maxLimit: number, defaultLimit: number): Command {
  return command
    .option('--limit <n>', `items per page (1 to ${maxLimit}; default ${defaultLimit})`, (v) => {
      const n = parsePositiveInt(v);
      if (n > maxLimit) throw new InvalidArgumentError(`must be at most ${maxLimit}`);
      return n;
    })
    .option('--cursor <cursor>', 'start at this page (the nextCursor of the previous one)')
    .option('--all', 'every page, following nextCursor until the end');
}

/** One page, or with --all every page from the cursor on, as one page without nextCursor. */
export async function fetchPages<S extends z.ZodType<Page>>(client: ApiClient, path: string, schema: S, query: Query, paging: Paging): Promise<z.output<S>> {
  let cursor = paging.cursor;
  const seen = new Set<string>();
  const items: unknown[] = [];
  for (;;) {
    const page = await client.json('GET', path, schema, { query: { ...query, limit: paging.limit, cursor } });
    if (paging.all !== true) return page;
    items.push(...page.items);
    if (page.nextCursor === undefined) return { ...page, items };
    // A server that hands back a cursor it gave before would page forever.
    if (seen.has(page.nextCursor)) throw new CliError(EXIT.failure, 'bad_response', `GET ${path} repeated the cursor ${page.nextCursor}`);
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

/** For people: how to get the next page (on stderr, so `-o name` output stays a clean list). */
export function printMore(output: Output, nextCursor: string | undefined, verb: string): void {
  if (nextCursor !== undefined && !output.structured) output.err(`more: ledgerflow ${verb} --cursor ${nextCursor} (or --all)\n`);
}
