import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_LOG_PIECE,
  TimedLineSplitter,
  parseLogIndex,
  parseRfc3339Nanos,
  rfc3339Nano,
  sinceOffset,
  timeAt,
  timestampedLines,
  type LogTimeIndex,
} from '../../../src/core/logTimes';

const BASE = 1_796_221_000n * 1_000_000_000n;
const line = (offset: number, time: bigint) => `${offset} ${time / 1_000_000_000n}.${String(time % 1_000_000_000n).padStart(9, '0')}\n`;

/** A job's writes (bytes, then a pause in ns) as the sampler records them: a sample after
 * some writes, with the size so far and the time of the last write. */
const writes = fc.array(fc.record({ bytes: fc.integer({ min: 0, max: 50 }), pause: fc.bigInt({ min: 0n, max: 2_000_000_000n }), sampled: fc.boolean() }), {
  maxLength: 40,
});

function sampled(ws: { bytes: number; pause: bigint; sampled: boolean }[]): { text: string; size: number; end: bigint } {
  let size = 0;
  let time = BASE;
  let text = '';
  for (const w of ws) {
    size += w.bytes;
    time += w.pause;
    if (w.sampled) text += line(size, time);
  }
  return { text, size, end: time };
}

test('log index: for any writes, since gives a chunk boundary, monotone, with every older byte before it', () => {
  fc.assert(
    fc.property(writes, fc.array(fc.bigInt({ min: BASE - 1n, max: BASE + 90_000_000_000n }), { minLength: 1, maxLength: 8 }), (ws, cutoffs) => {
      const { text, size, end } = sampled(ws);
      const index = parseLogIndex(text, size, end, 10_000);
      const boundaries = new Set([0, size, ...index.samples.map((s) => s.offset)]);
      let previous = -1;
      for (const cutoff of [...cutoffs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
        const at = sinceOffset(index, size, cutoff);
        assert.ok(boundaries.has(at), `${at} splits a chunk`);
        assert.ok(at >= previous, 'since offset went back as the cutoff grew');
        previous = at;
        for (let b = 0; b < size; b += 1) assert.equal(timeAt(index, b) >= cutoff, b >= at, `byte ${b}`);
      }
      // Times never go back along the log.
      for (let b = 1; b < size; b += 1) assert.ok(timeAt(index, b) >= timeAt(index, b - 1));
    }),
  );
});

test('log index: malformed, partial, out-of-order and oversized lines are dropped; times never go back; the bound holds', () => {
  const text = [line(5, BASE + 10n), 'garbage\n', line(3, BASE + 20n), line(9, BASE + 5n), line(500, BASE + 30n), '12 1796221000.0000'].join('');
  const index = parseLogIndex(text, 100, BASE + 40n, 10);
  assert.deepEqual(index.samples, [
    { offset: 5, time: BASE + 10n },
    { offset: 9, time: BASE + 10n },
  ]);
  assert.equal(index.endTime, BASE + 40n);
  // An end time older than the last sample is raised to it.
  assert.equal(parseLogIndex(line(5, BASE + 10n), 9, BASE, 10).endTime, BASE + 10n);
  const many = Array.from({ length: 50 }, (_, i) => line(i + 1, BASE + BigInt(i))).join('');
  assert.equal(parseLogIndex(many, 1000, BASE, 7).samples.length, 7);
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.nat(1000), (junk, size) => {
      const index = parseLogIndex(junk, size, BASE, 4);
      assert.ok(index.samples.length <= 4);
      index.samples.forEach((s, i) => assert.ok(s.offset > 0 && s.offset <= size && (i === 0 || s.offset > index.samples[i - 1]!.offset)));
    }),
  );
});

test('timed lines: a line takes the time of its end; long lines are cut into pieces; bytes are kept', () => {
  const index: LogTimeIndex = {
    samples: [
      { offset: 4, time: BASE + 1n },
      { offset: 10, time: BASE + 2n },
    ],
    endTime: BASE + 3n,
  };
  const splitter = new TimedLineSplitter(index, 0);
  const lines = [...splitter.push(Buffer.from('ab\ncd')), ...splitter.push(Buffer.from('ef\ngh\nij')), ...splitter.end()];
  assert.deepEqual(
    lines.map((l) => [l.bytes.toString(), l.time - BASE]),
    [
      ['ab\n', 1n],
      ['cdef\n', 2n],
      ['gh\n', 3n],
      ['ij', 3n],
    ],
  );
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 3 * MAX_LOG_PIECE }), { maxLength: 4 }), (chunks) => {
      const s = new TimedLineSplitter({ samples: [], endTime: BASE }, 0);
      const out = [...chunks.flatMap((c) => [...s.push(Buffer.from(c))]), ...s.end()];
      assert.deepEqual(Buffer.concat(out.map((l) => l.bytes)), Buffer.concat(chunks.map((c) => Buffer.from(c))));
      for (const l of out) assert.ok(l.bytes.length <= MAX_LOG_PIECE && (l.bytes.indexOf(0x0a) < 0 || l.bytes.indexOf(0x0a) === l.bytes.length - 1));
    }),
    { numRuns: 30 },
  );
});

test('RFC 3339 times: nanoseconds both ways; offsets; impossible dates refused; timestamped lines parsed', () => {
  assert.equal(rfc3339Nano(1_796_221_144_892_986_807n), '2026-12-02T14:19:04.892986807Z');
  assert.equal(parseRfc3339Nanos('2026-12-02T14:19:04.892986807Z'), 1_796_221_144_892_986_807n);
  assert.equal(parseRfc3339Nanos('2026-12-02T15:19:04.5+01:00'), 1_796_221_144_500_000_000n);
  assert.equal(parseRfc3339Nanos('2026-02-30T00:00:00Z'), undefined);
  assert.equal(parseRfc3339Nanos('5m'), undefined);
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 253_402_300_799_999_999_999n }), (ns) => assert.equal(parseRfc3339Nanos(rfc3339Nano(ns)), ns)));
  const lines = timestampedLines('2026-12-02T14:19:04.5Z one\n2026-12-02T14:19:04Z two\nthree');
  assert.deepEqual(
    lines.map((l) => [l.bytes.toString(), rfc3339Nano(l.time)]),
    [
      ['one\n', '2026-12-02T14:19:04.500000000Z'],
      ['two\n', '2026-12-02T14:19:04.500000000Z'],
      ['three', '2026-12-02T14:19:04.500000000Z'],
    ],
  );
});
