import { rfc3339Nano, type TimedLine } from '../../core/logTimes';
import type { TimedLogQuery } from '../../ports/compute';

/**
 * `GET .../logs?since=&timestamps=&tail=` over a backend's timed lines: the lines written at
 * or after `since` (a line's time is when its end was written), the last `tail` of those,
 * each prefixed with its RFC 3339 time and a space when `timestamps` (as the Kubernetes log
 * API and `kubectl logs --timestamps` do; a piece of a long line, or a last line without a
 * newline, then ends with one). Without timestamps the bytes are the log's own.
 */
export interface LogViewQuery extends TimedLogQuery {
  timestamps: boolean;
}

const NEWLINE = Buffer.from('\n');

export async function* logView(lines: AsyncIterable<TimedLine> | Iterable<TimedLine>, query: LogViewQuery): AsyncGenerator<Buffer> {
  const cutoff = query.since?.nanos;
  const format = (line: TimedLine): Buffer =>
    query.timestamps
      ? Buffer.concat([Buffer.from(`${rfc3339Nano(line.time)} `), line.bytes, ...(line.bytes.at(-1) === NEWLINE[0] ? [] : [NEWLINE])])
      : line.bytes;
  // The tail waits for the end; the backend read at most a tail window for it.
  const last: TimedLine[] = [];
  for await (const line of lines) {
    if (cutoff !== undefined && line.time < cutoff) continue;
    if (query.tail === undefined) yield format(line);
    else {
      last.push(line);
      if (last.length > query.tail) last.shift();
    }
  }
  for (const line of last) yield format(line);
}
