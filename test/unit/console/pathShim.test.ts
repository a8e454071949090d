import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import fc from 'fast-check';
import { posix as shim } from '../../../console/src/shims/path';

/** The console bundles the core's mount-path rules with a stand-in for node:path; it must
 * normalize exactly as Node does, or the console and the API would judge paths differently. */
test("the console's posix.normalize is Node's", () => {
  const segment = fc.constantFrom('', '.', '..', 'a', 'b', 'home', 'x.y', '...');
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 8 }), fc.boolean(), (parts, absolute) => {
      const path = (absolute ? '/' : '') + parts.join('/');
      assert.equal(shim.normalize(path), posix.normalize(path), JSON.stringify(path));
    }),
    { numRuns: 2000 },
  );
});
