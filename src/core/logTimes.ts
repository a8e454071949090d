/**
 * When each byte of a job's log was written, from a side index of samples `<size> <s>.<ns>`
 * (one a line, as the local supervisor appends them: every byte before <size> was written by
 * that time). The samples cut the log into chunks; a byte's time is its chunk's time, the
 * upper bound of when it was written, so times have the resolution of the sampling. Bytes
 * after the last sample take `endTime` (the log file's mtime, or the job's end). Times are in
 * nanoseconds since the epoch, as bigint (a number cannot hold them).
 *
 * The index is untrusted input to this parser as any file is (a sampler killed mid-append
 * leaves a partial line, a clock stepped back gives a smaller time): malformed lines are
 * dropped, offsets must grow strictly and stay within the log, and times never go back (a
 * smaller one is raised to the one before), so lookups below are monotone whatever it holds.
 */

export interface LogSample {
  /** Bytes of the log written by `time`. */
  readonly offset: number;
  readonly time: bigint;
}

export interface LogTimeIndex {
  /** Strictly growing offsets, non-decreasing times. */
  readonly samples: readonly LogSample[];
  /** Time of the bytes after the last sample (at least the last sample's time). */
  readonly endTime: bigint;
}

const SAMPLE = /^([0-9]{1,15}) ([0-9]{1,12})\.([0-9]{9})$/;

/** Parses an index for a log of `size` bytes, keeping at most `maxSamples` samples. */
export function parseLogIndex(text: string, size: number, endTime: bigint, maxSamples: number): LogTimeIndex {
  const samples: LogSample[] = [];
  let offset = 0;
  let time = 0n;
  // Only lines ended by a newline: the last one may be half written.
  const lines = text.split('\n');
  lines.pop();
  for (const line of lines) {
    if (samples.length >= maxSamples) break;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const at = Number(match[1]);
    if (at <= offset || at > size) continue;
    const t = BigInt(match[2]!) * 1_000_000_000n + BigInt(match[3]!);
    offset = at;
    time = t > time ? t : time;
    samples.push({ offset, time });
  }
  return { samples, endTime: endTime > time ? endTime : time };
}

/** Index of the first sample whose chunk holds byte `offset` (samples.length: after them). */
function chunkOf(index: LogTimeIndex, offset: number): number {
  const { samples } = index;
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (samples[mid]!.offset > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** When byte `offset` was written (its chunk's time). */
export function timeAt(index: LogTimeIndex, offset: number): bigint {
  const i = chunkOf(index, offset);
  return i < index.samples.length ? index.samples[i]!.time : index.endTime;
}

/**
 * The first byte written at or after `cutoff`: the start of the first chunk whose time is at
 * least `cutoff` (0, a sample's offset, or `size` when no byte is that recent). Every byte
 * before it is older than the cutoff, every byte from it on is not; it never falls inside a
 * chunk, and it does not decrease as the cutoff grows.
 */
export function sinceOffset(index: LogTimeIndex, size: number, cutoff: bigint): number {
  const { samples } = index;
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (samples[mid]!.time >= cutoff) hi = mid;
    else lo = mid + 1;
  }
  if (lo < samples.length) return lo === 0 ? 0 : samples[lo - 1]!.offset;
  const last = samples.length === 0 ? 0 : samples[samples.length - 1]!.offset;
  return index.endTime >= cutoff && last < size ? last : size;
}

/** RFC 3339 in UTC with nanoseconds, fixed width (as the kubelet's `timestamps` prefix):
 * `2026-12-02T14:19:03.123456789Z`. */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = String(ns % 1_000_000_000n).padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Nanoseconds since the epoch of a JavaScript time. */
export function nanosOf(date: Date): bigint {
  return BigInt(date.getTime()) * 1_000_000n;
}

/** How far back from a log's end a tail looks (src/app/workflows/logTail.ts, and the timed
 * view's `tail`), so a tail costs the same on a huge log as on a small one. */
export const TAIL_WINDOW_BYTES = 1024 * 1024;

/** The longest piece of a line handed out with one time (as container runtimes split long
 * lines): a line without a newline costs a reader no more memory than this. */
export const MAX_LOG_PIECE = 16 * 1024;

/** A piece of a job's log and when it was written: a line (with its newline, if it has one),
 * or at most MAX_LOG_PIECE bytes of a longer one. */
export interface TimedLine {
  /** Nanoseconds since the epoch. */
  readonly time: bigint;
  readonly bytes: Buffer;
}

const NEWLINE = 0x0a;

/**
 * Cuts the bytes of a log, read from byte `offset` on, into timed lines: each takes the time
 * of its last byte (a line is written when its newline is). Holds at most one piece.
 */
export class TimedLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly index: LogTimeIndex,
    private offset: number,
  ) {}

  *push(chunk: Buffer): Generator<TimedLine> {
    let from = 0;
    while (from < chunk.length) {
      const room = MAX_LOG_PIECE - this.pendingBytes;
      const nl = chunk.indexOf(NEWLINE, from);
      const stop = nl >= 0 && nl - from < room ? nl + 1 : Math.min(chunk.length, from + room);
      this.pending.push(chunk.subarray(from, stop));
      this.pendingBytes += stop - from;
      this.offset += stop - from;
      from = stop;
      if (chunk[stop - 1] === NEWLINE || this.pendingBytes === MAX_LOG_PIECE) yield this.take();
    }
  }

  *end(): Generator<TimedLine> {
    if (this.pendingBytes > 0) yield this.take();
  }

  private take(): TimedLine {
    const line = { time: timeAt(this.index, this.offset - 1), bytes: Buffer.concat(this.pending, this.pendingBytes) };
    this.pending = [];
    this.pendingBytes = 0;
    return line;
  }
}

const RFC3339 = /^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** Nanoseconds since the epoch of an RFC 3339 time (any fraction up to nanoseconds, any
 * offset); undefined when it is not one. */
export function parseRfc3339Nanos(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  // Date.parse takes 2026-02-30: a time that does not read back the same is not one.
  const utc = Date.parse(`${match[1]!}Z`);
  if (Number.isNaN(utc) || new Date(utc).toISOString().slice(0, 19) !== match[1]) return undefined;
  const ms = Date.parse(`${match[1]!}${match[3]!}`);
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/**
 * The timed lines of a log whose every line starts with its RFC 3339 time and a space (the
 * Kubernetes log API with `timestamps=true`). A line without one (none should come) takes
 * the time before it; times never go back; long lines are cut into MAX_LOG_PIECE pieces.
 */
export function timestampedLines(text: string): TimedLine[] {
  const lines: TimedLine[] = [];
  let time = 0n;
  for (const line of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    const space = line.indexOf(' ');
    const stamp = space > 0 ? parseRfc3339Nanos(line.slice(0, space)) : undefined;
    if (stamp !== undefined && stamp > time) time = stamp;
    const bytes = Buffer.from(stamp === undefined ? line : line.slice(space + 1), 'utf8');
    for (let at = 0; at < bytes.length; at += MAX_LOG_PIECE) lines.push({ time, bytes: bytes.subarray(at, at + MAX_LOG_PIECE) });
  }
  return lines;
}
