import { z } from 'zod';

/** The messages between the host and its supervisor spawner (spawner.ts, spawnerProcess.ts). */
export const spawnRequestSchema = z.object({
  id: z.number().int(),
  file: z.string(),
  args: z.array(z.string()),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  /** Where the helper writes the supervisor's pid before it says it started. */
  pidFile: z.string().optional(),
  /** Groups the helper makes before it starts the supervisor and removes once it exited. */
  cgroups: z.object({ dirs: z.array(z.string()), writes: z.array(z.object({ file: z.string(), value: z.string() })) }).optional(),
});
export type SpawnRequest = z.infer<typeof spawnRequestSchema>;

/** Started (its pid), could not start, or exited (its groups removed): per request, `pid`
 * or `error` first. */
export const spawnerReplySchema = z.union([
  z.object({ id: z.number().int(), pid: z.number().int().positive() }),
  z.object({ id: z.number().int(), error: z.string() }),
  z.object({ id: z.number().int(), exited: z.literal(true), groupsLeft: z.literal(true).optional() }),
]);
export type SpawnerReply = z.infer<typeof spawnerReplySchema>;
