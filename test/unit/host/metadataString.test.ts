import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { metadataString } from '../../../src/host/wire/metadataString';

/** How the programming model (@azure/functions fromRpcTypedData) reads the two forms. */
function asTheModelReadsIt(data: { string?: string | null; json?: string | null }): unknown {
  if (typeof data.string === 'string') {
    try {
      return JSON.parse(data.string) as unknown;
    } catch {
      return data.string;
    }
  }
  return JSON.parse(data.json as string) as unknown;
}

const sent = (s: string) => asTheModelReadsIt({ string: s });

test('a function sees the same metadata value as when the text is sent as a string', () => {
  const jsonish = fc.oneof(
    fc.json(),
    fc.double().map(String),
    fc.integer().map(String),
    fc.constantFrom(
      'true',
      'false',
      'null',
      ' 1 ',
      '\t2\n',
      '-0',
      '1e5',
      '1.5E-3',
      '01',
      '1.',
      '.5',
      '+1',
      '-',
      'truex',
      'nul',
      '[1',
      '{"a":1}',
      '"x"',
      'NaN',
      'Infinity',
    ),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.uuid(),
        fc.uuid().map((u) => u.replace(/-/g, '')),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        jsonish,
      ),
      (s) => {
        assert.deepEqual(asTheModelReadsIt(metadataString(s)), sent(s));
      },
    ),
    { numRuns: 2000 },
  );
});

test('ids and times that are not JSON go as JSON strings (no exception in the model)', () => {
  for (const s of ['3f2a9c0d1e2b4c5d', 'f3a2', 'abc', '2026-12-02T16:00:00.000Z', 'e1', '']) assert.deepEqual(metadataString(s), { json: JSON.stringify(s) });
  for (const s of ['123', '-1.5e3', 'true', 'null', '{"a":1}', '["x"]', '"q"', ' 7 ']) assert.deepEqual(metadataString(s), { string: s });
});
