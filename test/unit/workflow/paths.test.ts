import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mountPathProblem, mountPathsOverlap } from '../../../src/core/workflow/paths';
import { relativePathProblem } from '../../../src/core/relativePath';
import { cpuCount, memoryBytes } from '../../../src/core/workflow/quantity';

test('mount paths', () => {
  assert.equal(mountPathProblem('/home/jovyan/uis'), undefined);
  assert.equal(mountPathProblem('/data'), undefined);
  assert.equal(mountPathProblem('/tmp/data'), undefined);
  assert.equal(mountPathProblem(''), 'must not be empty');
  assert.equal(mountPathProblem('data'), 'must be an absolute path');
  assert.equal(mountPathProblem('/a/../etc'), 'must not contain ..');
  assert.equal(mountPathProblem('/a//b'), 'must be normalised (/a/b)');
  assert.equal(mountPathProblem('/a/./b'), 'must be normalised (/a/b)');
  assert.equal(mountPathProblem('/'), 'must not be /');
  assert.equal(mountPathProblem('/a\nb'), 'must not contain control characters');
  for (const root of ['/proc', '/sys', '/dev', '/etc', '/usr', '/bin', '/lib64', '/run', '/workspace']) {
    assert.equal(mountPathProblem(`${root}/x`), `must not be at or under ${root}`);
    assert.equal(mountPathProblem(root), `must not be at or under ${root}`);
  }
  assert.equal(mountPathProblem('/etcetera'), undefined);
});

test('overlapping mount paths', () => {
  assert.ok(mountPathsOverlap('/data', '/data'));
  assert.ok(mountPathsOverlap('/data', '/data/a'));
  assert.ok(mountPathsOverlap('/data/a', '/data'));
  assert.ok(!mountPathsOverlap('/data', '/database'));
});

test('relative workspace paths', () => {
  // One rule for every path inside a dataset or workspace (uploads, code files, result files,
  // share directories, the Kubernetes reader): the copies it replaced differed on these.
  assert.equal(relativePathProblem('uis.py'), undefined);
  assert.equal(relativePathProblem('src/lib/a.py'), undefined);
  const segments = "must not contain empty, '.' or '..' segments";
  assert.equal(relativePathProblem('../x'), segments);
  assert.equal(relativePathProblem('a/../../x'), segments);
  assert.equal(relativePathProblem('/etc/passwd'), 'must be relative (no leading /)');
  assert.equal(relativePathProblem('a//b'), segments);
  assert.equal(relativePathProblem('./a'), segments);
  assert.equal(relativePathProblem('a\\b'), 'must not contain control characters or backslashes');
  assert.equal(relativePathProblem('a\nb'), 'must not contain control characters or backslashes');
  assert.equal(relativePathProblem(''), 'must not be empty');
});

test('property: an accepted mount path is absolute, normalised and outside the reserved trees', () => {
  const segment = fc.oneof(fc.constantFrom('..', '.', '', 'etc', 'proc', 'data', 'home', 'workspace'), fc.string({ maxLength: 4 }));
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 5 }), fc.boolean(), (segments, absolute) => {
      const path = (absolute ? '/' : '') + segments.join('/');
      if (mountPathProblem(path) !== undefined) return;
      assert.ok(path.startsWith('/') && path.length > 1);
      assert.ok(
        !path
          .split('/')
          .slice(1)
          .some((s) => s === '..' || s === '.' || s === ''),
      );
      assert.ok(!/^\/(etc|proc|workspace)(\/|$)/.test(path));
    }),
  );
});

test('quantities', () => {
  assert.equal(memoryBytes('512Mi'), 512 * 2 ** 20);
  assert.equal(memoryBytes('1G'), 1e9);
  assert.equal(memoryBytes('1000'), 1000);
  assert.throws(() => memoryBytes('lots'), RangeError);
  assert.equal(cpuCount('500m'), 0.5);
  assert.equal(cpuCount('2'), 2);
});
