import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** What the Functions host's schedule monitor records per timer (`ScheduleStatus`). */
export interface ScheduleStatus {
  /** The last occurrence that fired; undefined before the first run. */
  readonly last: Date | undefined;
  readonly next: Date;
  readonly lastUpdated: Date;
}

const fileSchema = z.object({ last: z.iso.datetime().nullable(), next: z.iso.datetime(), lastUpdated: z.iso.datetime() });

/** One small JSON file per timer under `<dataDir>/timers`, replaced atomically, so a host
 * that was down past a due time knows it on the next start. */
export class ScheduleStatusStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'timers');
  }

  #file(functionName: string): string {
    return join(this.#dir, `${encodeURIComponent(functionName.toLowerCase())}.json`);
  }

  read(functionName: string): ScheduleStatus | undefined {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.#file(functionName), 'utf8'));
    } catch {
      return undefined;
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) return undefined;
    const { last, next, lastUpdated } = parsed.data;
    return { last: last === null ? undefined : new Date(last), next: new Date(next), lastUpdated: new Date(lastUpdated) };
  }

  /** Returns the error instead of throwing: a status that could not be saved (full disk)
   * must not stop the timer; the next firing saves it again. */
  write(functionName: string, status: ScheduleStatus): Error | undefined {
    const file = this.#file(functionName);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.#dir, { recursive: true });
      writeFileSync(
        tmp,
        JSON.stringify({ last: status.last?.toISOString() ?? null, next: status.next.toISOString(), lastUpdated: status.lastUpdated.toISOString() }),
      );
      renameSync(tmp, file);
      return undefined;
    } catch (err) {
      rmSync(tmp, { force: true });
      return err instanceof Error ? err : new Error(String(err));
    }
  }
}
