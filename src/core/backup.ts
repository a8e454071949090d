import { z } from 'zod';

/**
 * The manifest of a data-dir backup (`ledgerflow admin backup`), at the root of the copy.
 * A host started on the copy is the restore; the local compute reads `createdAt` to tell a
 * job that was running when the backup was taken (its process is not in the backup) from
 * one that failed on its own.
 */
export const BACKUP_MANIFEST = 'backup-manifest.json';

export const backupManifestSchema = z.object({
  format: z.literal('ledgerflow-backup/1'),
  createdAt: z.iso.datetime({ offset: true }),
  /** The host's data dir it was taken from. */
  source: z.string(),
  hostVersion: z.string(),
  node: z.string(),
  sqlite: z.string(),
  /** Blocks in the embedded ledger's copy. */
  ledgerHeight: z.number().int().nonnegative().optional(),
  /** SQLite databases copied with VACUUM INTO, relative to the data dir. */
  databases: z.array(z.string()),
  /** How long new work was paused, in milliseconds. */
  pausedMs: z.number().nonnegative(),
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string() })),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;
