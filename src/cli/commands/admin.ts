import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { parseSettings } from '../../config/settings';
import { ADMIN_KEY_FILE } from '../../host/admin';
import { ApiClient } from '../client';
import { action } from '../context';
import { CliError, EXIT } from '../exitCodes';
import { fields, printData } from '../output';

const backupTaken = z.object({
  dir: z.string(),
  createdAt: z.string(),
  files: z.number(),
  databases: z.array(z.string()),
  ledgerHeight: z.number().optional(),
  pausedMs: z.number(),
});

/**
 * `ledgerflow admin backup <dir> [--data-dir <dir>]`: the host's operator asks the running
 * embedded host for a consistent copy of its data dir (src/host/admin.ts). The admin key is
 * read from the data dir, so only who may read the data dir may ask.
 */
export function adminCommand(): Command {
  const admin = new Command('admin').description("the embedded host's operator: backup");
  admin
    .command('backup')
    .description("a consistent copy of the running host's data dir into <dir> (new or empty; restore = start a host on it)")
    .argument('<dir>', 'where to write the backup')
    .option('--data-dir <dir>', "the host's data dir, for its admin key (default LEDGERFLOW_DATA_DIR, else the default data dir)")
    .action(
      action(async (ctx, dir: string, o: { dataDir?: string }) => {
        const dataDir = resolve(o.dataDir ?? parseSettings(process.env).LEDGERFLOW_DATA_DIR);
        let key: string;
        try {
          key = readFileSync(join(dataDir, ADMIN_KEY_FILE), 'utf8').trim();
        } catch {
          throw new CliError(EXIT.unauthorized, 'unauthorized', `cannot read the admin key in ${dataDir} (is this the host's data dir, and may you read it?)`);
        }
        const origin = new URL('/admin', ctx.config.endpoint).toString();
        const taken = await new ApiClient(origin, key).json('POST', 'backup', backupTaken, { body: { dir: resolve(dir) } });
        if (ctx.output.structured) return printData(ctx.output, taken);
        ctx.output.out(
          fields([
            ['backup', taken.dir],
            ['taken at', taken.createdAt],
            ['files', String(taken.files)],
            ['databases', taken.databases.join(', ')],
            ['ledger height', taken.ledgerHeight === undefined ? 'no embedded ledger' : String(taken.ledgerHeight)],
            ['work paused', `${taken.pausedMs} ms`],
          ]),
        );
      }),
    );
  return admin;
}
