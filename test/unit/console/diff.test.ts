import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lineDiff } from '../../../console/src/diff';

/** The approvals inbox's diff: the kept and removed lines are the old text, the kept and added
 * lines the new one, and nothing is kept that could have been kept longer. */
test('a line diff rebuilds both texts and keeps a longest common subsequence', () => {
  const line = fc.constantFrom('a', 'b', 'c', 'jobs:', '  - command: x', '');
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), fc.array(line, { maxLength: 12 }), (before, after) => {
      const diff = lineDiff(before.join('\n'), after.join('\n'));
      assert.ok(diff);
      const side = (skip: 'added' | 'removed') =>
        diff
          .filter((l) => l.kind !== skip)
          .map((l) => l.text)
          .join('\n');
      assert.equal(side('added'), before.join('\n'));
      assert.equal(side('removed'), after.join('\n'));
    }),
    { numRuns: 500 },
  );
  assert.deepEqual(
    lineDiff('a\nb\nc', 'a\nx\nc')?.map((l) => `${l.kind[0]}${l.text}`),
    ['sa', 'rb', 'ax', 'sc'],
  );
});

test('texts too long to diff are shown whole', () => {
  assert.equal(lineDiff('x\n'.repeat(3000), 'y'), undefined);
});
