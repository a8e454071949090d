import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { contentHash, type ContentFile } from '../../../src/core/datasets/contentHash';

const segment = fc.stringMatching(/^[a-z0-9._-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
const digest = fc.stringMatching(/^[0-9a-f]{64}$/);
/** A file map as an upload may hold it: no path is a directory of another. */
const trees = fc
  .dictionary(
    fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
    digest,
    { minKeys: 1, maxKeys: 12 },
  )
  .filter((files) => Object.keys(files).every((p) => !Object.keys(files).some((q) => q.startsWith(`${p}/`))))
  .map((files) => Object.entries(files).map(([path, sha256]): ContentFile => ({ path, sha256 })));

test('the content hash does not depend on the order the files are listed in', () => {
  fc.assert(
    fc.property(trees, fc.infiniteStream(fc.nat()), (files, randoms) => {
      const it = randoms[Symbol.iterator]();
      const shuffled = [...files].sort(() => ((it.next().value as number) % 3) - 1);
      assert.equal(contentHash(shuffled), contentHash(files));
    }),
  );
});

test("any one file's content or path changes the content hash", () => {
  fc.assert(
    fc.property(trees, digest, fc.nat(), (files, other, pick) => {
      const i = pick % files.length;
      const changed = files.map((f, j) => (j === i ? { ...f, sha256: other } : f));
      fc.pre(other !== files[i]!.sha256);
      assert.notEqual(contentHash(changed), contentHash(files));
      const moved = files.map((f, j) => (j === i ? { ...f, path: `${f.path}x` } : f));
      fc.pre(!files.some((f) => f.path === `${files[i]!.path}x` || f.path.startsWith(`${files[i]!.path}x/`)));
      assert.notEqual(contentHash(moved), contentHash(files));
    }),
  );
});

test('a directory is a node of its own: the hash is a Merkle tree over the paths', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const a = sha('a');
  // Same leaves, different shape.
  assert.notEqual(contentHash([{ path: 'x/y', sha256: a }]), contentHash([{ path: 'x_y', sha256: a }]));
  // The root is computed from the subdirectory's node, not from its files directly.
  const sub = sha(`ledgerflow tree\nfile ${a} y\n`);
  assert.equal(contentHash([{ path: 'x/y', sha256: a }]), sha(`ledgerflow tree\ndir ${sub} x\n`));
});
