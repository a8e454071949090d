import type { ByteSource } from '../../ports/compute';

/**
 * The last lines of a job's log, as `tail -n` (and Kubernetes' `tailLines`) give them: read
 * from the end, at most TAIL_WINDOW_BYTES, so a tail costs the same on a huge log as on a
 * small one. A log without a newline at its end still ends in a line. When the window holds
 * fewer lines than asked for, the tail starts at the window's first whole line (or at the
 * log's start, when the window reaches it).
 */
export const TAIL_WINDOW_BYTES = 1024 * 1024;

export interface LogTail {
  /** Offset of the tail's first byte in the whole log. */
  readonly start: number;
  readonly bytes: Buffer;
  /** Size of the whole log. */
  readonly size: number;
}

const NEWLINE = 0x0a;

export async function logTail(source: ByteSource, lines: number, windowBytes = TAIL_WINDOW_BYTES): Promise<LogTail> {
  const { size } = source;
  if (size === 0) {
    await source.close();
    return { start: 0, bytes: Buffer.alloc(0), size };
  }
  const windowStart = Math.max(0, size - windowBytes);
  const chunks: Buffer[] = [];
  for await (const chunk of source.read(windowStart, size - 1)) chunks.push(chunk as Buffer);
  const window = Buffer.concat(chunks);
  // Lines end before `pos`; a final newline ends the last line, it starts none.
  let pos = window.length - (window[window.length - 1] === NEWLINE ? 1 : 0);
  let wanted = lines;
  while (wanted > 0) {
    // (A negative offset would count from the end: stop at the window's start instead.)
    const nl = pos > 0 ? window.lastIndexOf(NEWLINE, pos - 1) : -1;
    if (nl < 0) break;
    pos = nl;
    wanted -= 1;
  }
  let offset: number;
  if (wanted === 0) offset = pos + 1;
  else if (windowStart === 0) offset = 0;
  else {
    // Fewer lines in the window than asked for, and it starts mid-line: from its first whole
    // line, or all of it when that line is the only one.
    const first = window.indexOf(NEWLINE) + 1;
    offset = first > 0 && first < window.length - (window[window.length - 1] === NEWLINE ? 1 : 0) ? first : 0;
  }
  return { start: windowStart + offset, bytes: window.subarray(offset), size };
}
