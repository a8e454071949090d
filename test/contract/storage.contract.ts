import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LedgerflowError } from '../../src/core/errors';
import type { DatasetLocation, DatasetSource, DatasetStorage } from '../../src/ports/datasetStorage';

/** What every DatasetStorage must do; run against each (local dirs, Azure Files fake). */
export interface StorageSubject {
  storage: DatasetStorage;
  /** Existing data made out of band (the owner's directory or share), holding `files`. */
  existing(files: Record<string, string>): Promise<DatasetSource>;
  /** A source that does not exist. */
  missing(): DatasetSource;
  /** Whether the data at a location is still there. */
  exists(location: DatasetLocation): Promise<boolean>;
  close(): Promise<void>;
}

const newId = () => randomBytes(16).toString('hex');
const FILES = { 'README.md': '# data\n', 'data/a.csv': 'x,y\n1,2\n', 'data/deep/b.txt': 'ünïcode' };
const isValidation =
  (...paths: string[]) =>
  (err: unknown) =>
    err instanceof LedgerflowError && err.code === 'validation_failed' && paths.every((p) => err.details?.some((d) => d.path === p) === true);

export function storageContract(label: string, open: () => Promise<StorageSubject>): void {
  test(`${label}: create writes the files; tree lists them sorted with sizes`, async () => {
    const s = await open();
    try {
      const stored = await s.storage.create(newId(), FILES);
      assert.equal(stored.location.kind, s.storage.kind);
      assert.equal(stored.location.adopted, false);
      assert.deepEqual(await s.storage.tree(stored.location, stored.credential), [
        { path: 'README.md', type: 'file', size: 7 },
        { path: 'data', type: 'directory' },
        { path: 'data/a.csv', type: 'file', size: 8 },
        { path: 'data/deep', type: 'directory' },
        { path: 'data/deep/b.txt', type: 'file', size: Buffer.byteLength('ünïcode') },
      ]);
    } finally {
      await s.close();
    }
  });

  test(`${label}: an empty dataset has an empty tree`, async () => {
    const s = await open();
    try {
      const stored = await s.storage.create(newId(), {});
      assert.deepEqual(await s.storage.tree(stored.location, stored.credential), []);
    } finally {
      await s.close();
    }
  });

  test(`${label}: bad paths are refused, every one named, nothing written`, async () => {
    const s = await open();
    try {
      const files = { '../escape.txt': 'x', '/abs.txt': 'x', 'a/../../b': 'x', 'nul\u0000.txt': 'x', 'ok.txt': 'x', 'ok.txt/inner': 'x' };
      await assert.rejects(
        s.storage.create(newId(), files),
        isValidation('files["../escape.txt"]', 'files["/abs.txt"]', 'files["a/../../b"]', 'files["nul\\u0000.txt"]', 'files["ok.txt/inner"]'),
      );
    } finally {
      await s.close();
    }
  });

  test(`${label}: adopt takes existing data, adds uploads, and remove leaves it alone`, async () => {
    const s = await open();
    try {
      const source = await s.existing({ 'existing.txt': 'hello' });
      const stored = await s.storage.adopt(newId(), source, { 'added/new.txt': 'new' }, 'uis');
      assert.equal(stored.location.adopted, true);
      const paths = (await s.storage.tree(stored.location, stored.credential)).map((e) => e.path);
      assert.deepEqual(paths, ['added', 'added/new.txt', 'existing.txt']);
      await s.storage.remove(stored.location, stored.credential);
      assert.equal(await s.exists(stored.location), true);
    } finally {
      await s.close();
    }
  });

  test(`${label}: adopting something missing is a validation error on the source`, async () => {
    const s = await open();
    try {
      await assert.rejects(
        s.storage.adopt(newId(), s.missing(), {}, 'uis'),
        (err: unknown) => err instanceof LedgerflowError && err.code === 'validation_failed' && err.details?.some((d) => d.path.startsWith('source.')) === true,
      );
    } finally {
      await s.close();
    }
  });

  test(`${label}: remove deletes what the platform created`, async () => {
    const s = await open();
    try {
      const stored = await s.storage.create(newId(), FILES);
      assert.equal(await s.exists(stored.location), true);
      await s.storage.remove(stored.location, stored.credential);
      assert.equal(await s.exists(stored.location), false);
    } finally {
      await s.close();
    }
  });
}
