import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyStores } from '../../src/ports/keyStore';
import { LedgerflowError } from '../../src/core/errors';

/** What every KeyStores implementation must do; run against each (file, Key Vault fake). */
export interface KeyStoreSubject {
  stores: KeyStores;
  /** Whether the backing store still holds the value anywhere (live or soft-deleted). */
  retains(org: string, name: string): Promise<boolean>;
  close(): Promise<void>;
}

export function keyStoreContract(label: string, open: () => Promise<KeyStoreSubject>): void {
  test(`${label}: set, get, overwrite`, async () => {
    const s = await open();
    try {
      const store = s.stores.forOrg('uis');
      assert.equal(await store.get('ds-abc-key'), undefined);
      await store.set('ds-abc-key', 'v1');
      assert.equal(await store.get('ds-abc-key'), 'v1');
      await store.set('ds-abc-key', 'v2 with spaces & ünïcode');
      assert.equal(await store.get('ds-abc-key'), 'v2 with spaces & ünïcode');
    } finally {
      await s.close();
    }
  });

  test(`${label}: organizations do not see each other's secrets`, async () => {
    const s = await open();
    try {
      await s.stores.forOrg('uis').set('ds-1-key', 'uis-value');
      assert.equal(await s.stores.forOrg('uio').get('ds-1-key'), undefined);
      await s.stores.forOrg('uio').set('ds-1-key', 'uio-value');
      assert.equal(await s.stores.forOrg('uis').get('ds-1-key'), 'uis-value');
    } finally {
      await s.close();
    }
  });

  test(`${label}: destroy purges the value`, async () => {
    const s = await open();
    try {
      const store = s.stores.forOrg('uis');
      await store.set('ds-2-credential', 'secret-to-shred');
      await store.set('ds-3-key', 'keep');
      assert.deepEqual(await store.destroy('ds-2-credential'), { purged: true });
      assert.equal(await store.get('ds-2-credential'), undefined);
      assert.equal(await s.retains('uis', 'ds-2-credential'), false);
      assert.equal(await store.get('ds-3-key'), 'keep');
      assert.deepEqual(await store.destroy('ds-2-credential'), { purged: true }, 'destroy is idempotent');
    } finally {
      await s.close();
    }
  });

  test(`${label}: concurrent writes all land`, async () => {
    const s = await open();
    try {
      const store = s.stores.forOrg('uib');
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.set(`ds-${i}-key`, `value-${i}`)));
      for (let i = 0; i < 10; i++) assert.equal(await store.get(`ds-${i}-key`), `value-${i}`);
    } finally {
      await s.close();
    }
  });

  test(`${label}: invalid names are refused before reaching the store`, async () => {
    const s = await open();
    try {
      const store = s.stores.forOrg('uis');
      for (const name of ['', 'a/b', '../x', 'x'.repeat(128), 'a b']) {
        await assert.rejects(store.set(name, 'v'), (e: unknown) => e instanceof LedgerflowError && e.code === 'bad_request');
      }
    } finally {
      await s.close();
    }
  });
}
