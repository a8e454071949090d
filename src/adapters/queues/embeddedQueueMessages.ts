import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { QUEUES } from '../../api/messages';
import type { RunMessages } from '../../ports/runMessages';

/**
 * The run's messages in the embedded host's queue database (`queues.sqlite` in the data dir,
 * table `queue_messages`, written by src/host/queue/queueStore.ts): the workflow queues and
 * their poison queues, matched on the message's `workflowId`. Opened per call, since the
 * host owns the file and may not have created it yet.
 */
export function embeddedQueueMessages(dataDir: string): RunMessages {
  const file = join(dataDir, 'queues.sqlite');
  const queues = Object.values(QUEUES).flatMap((q) => [q, `${q}-poison`]);
  return {
    async deleteFor(workflowId) {
      if (!existsSync(file)) return 0;
      const Database = require('better-sqlite3') as typeof BetterSqlite3;
      const db = new Database(file, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        return db
          .prepare(
            `DELETE FROM queue_messages WHERE queue IN (${queues.map(() => '?').join(', ')}) AND is_text = 1 AND json_valid(CAST(body AS TEXT)) AND json_extract(CAST(body AS TEXT), '$.workflowId') = ?`,
          )
          .run(...queues, workflowId).changes;
      } finally {
        db.close();
      }
    },
  };
}
