import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { LedgerflowError } from '../../../src/core/errors';
import { parseWorkflowSpec } from '../../../src/core/workflow/spec';

function onlyLedgerflowErrors(source: string): void {
  try {
    parseWorkflowSpec(source);
  } catch (err) {
    assert.ok(err instanceof LedgerflowError, `threw ${String(err)}`);
    assert.equal(err.code, 'validation_failed');
    assert.ok((err.details ?? []).length > 0);
  }
}

const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'jobs:',
        'dags:',
        '- ',
        '  ',
        '    ',
        '\n',
        ':',
        ' >> ',
        "'",
        '"',
        '{',
        '}',
        '[',
        ']',
        ',',
        '#',
        'command: ',
        'volumes:',
        'id: ',
        'name: ',
        'path: ',
        '/home/x',
        '..',
        '&a ',
        '*a',
        '!!binary ',
        '|',
        '>',
        '1',
        '2',
        '__proto__: ',
        'retries: ',
        'timeout: ',
        '5m',
        'env:',
        'resources:',
        '---',
        '? ',
        '\t',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

test('property: random text and YAML-ish strings only ever raise LedgerflowError', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), yamlish), onlyLedgerflowErrors), { numRuns: 1500 });
});

test('property: random YAML documents only ever raise LedgerflowError', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => onlyLedgerflowErrors(stringify(value))),
    { numRuns: 500 },
  );
  const jobsArb = fc.record({
    jobs: fc.array(
      fc.oneof(fc.string(), fc.dictionary(fc.constantFrom('command', 'name', 'volumes', 'env', 'timeout', 'retries', 'x'), fc.jsonValue({ maxDepth: 2 }))),
    ),
    dags: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constantFrom('1 >> 2', '2 >> 1', 'job-1 >> 3', '1 >> 2 >> 3'))),
  });
  fc.assert(
    fc.property(jobsArb, (value) => onlyLedgerflowErrors(stringify(value))),
    { numRuns: 500 },
  );
});

test('property: a generated valid spec parses to the jobs and edges it describes', () => {
  const specArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.record({
      commands: fc.array(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
        { minLength: n, maxLength: n },
      ),
      pairs: fc.array(fc.tuple(fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n })), { maxLength: 20 }),
    }),
  );
  fc.assert(
    fc.property(specArb, ({ commands, pairs }) => {
      const edges = pairs.filter(([a, b]) => a < b);
      const spec = parseWorkflowSpec(stringify({ jobs: commands, dags: edges.map(([a, b]) => `${a} >> ${b}`) }));
      assert.deepEqual(
        spec.jobs.map((j) => j.command),
        commands.map((c) => c.trim()),
      );
      const expected = [...new Set(edges.map(([a, b]) => `${a}>${b}`))].sort();
      assert.deepEqual(spec.edges.map((e) => `${e.from}>${e.to}`).sort(), expected);
    }),
  );
});
