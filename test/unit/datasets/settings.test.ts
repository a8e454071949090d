import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerflowError } from '../../../src/core/errors';
import { keyVaultUrls, parseSettings } from '../../../src/config/settings';

const tokens = { 'tok-uis-0123456789': { user: 'alice', org: 'uis' } };

test('bad token and principal settings fail at start naming the setting, never echoing a token', () => {
  assert.throws(
    () => parseSettings({ LEDGERFLOW_TOKENS: '{"s3cret-token": {"user": "a"}}' }),
    (err: unknown) => err instanceof LedgerflowError && err.message.includes('LEDGERFLOW_TOKENS') && !err.message.includes('s3cret'),
  );
  assert.throws(() => parseSettings({ LEDGERFLOW_TOKENS: 'not json' }), /LEDGERFLOW_TOKENS/);
  assert.throws(() => parseSettings({ AUTH_PRINCIPAL_ORGS: '{"T1": "uis"}' }), /AUTH_PRINCIPAL_ORGS/);
  assert.throws(() => parseSettings({ KEY_VAULT_URL_UIS: 'http://uis.vault.azure.net' }), /KEY_VAULT_URL_UIS/);
  assert.doesNotThrow(() => parseSettings({ LEDGERFLOW_TOKENS: JSON.stringify(tokens), KEY_VAULT_URL_UIS: 'https://uis.vault.azure.net/' }));
});

test('an adapter choice without its connection settings fails at start naming them', () => {
  assert.throws(() => parseSettings({ KEY_STORE: 'keyvault' }), /KEY_VAULT_URL_<ORG>/);
  assert.doesNotThrow(() => parseSettings({ KEY_STORE: 'keyvault', KEY_VAULT_URL_UIS: 'https://uis.vault.azure.net/' }));
  assert.throws(() => parseSettings({ STORAGE: 'azure-files' }), /AZURE_FILES_ACCOUNT_URL/);
  assert.doesNotThrow(() => parseSettings({ STORAGE: 'azure-files', AZURE_FILES_ACCOUNT_URL: 'https://acct.file.core.windows.net/' }));
  assert.throws(
    () => parseSettings({ RUN_INDEX: 'table' }),
    /invalid setting RUN_INDEX_TABLE_URL: must be https:\/\/<account>\.table\.core\.windows\.net when RUN_INDEX=table$/,
  );
  assert.throws(() => parseSettings({ RUN_INDEX: 'table', RUN_INDEX_TABLE_URL: 'http://acct.table.core.windows.net' }), /RUN_INDEX_TABLE_URL/);
  assert.throws(() => parseSettings({ RUN_INDEX_TABLE_NAME: 'runs-index' }), /RUN_INDEX_TABLE_NAME: must be 3 to 63 letters/);
  assert.doesNotThrow(() => parseSettings({ RUN_INDEX: 'table', RUN_INDEX_TABLE_URL: 'https://acct.table.core.windows.net/' }));
  assert.equal(parseSettings({}).RUN_INDEX, 'sqlite');
});

test('Key Vault URLs come from KEY_VAULT_URL_<ORG>', () => {
  assert.deepEqual(keyVaultUrls({ KEY_VAULT_URL_UIS: 'https://a/', KEY_VAULT_URL_NORD_UNI: 'https://b/', KEY_VAULT_URL_: 'x', OTHER: 'y' }), {
    uis: 'https://a/',
    'nord-uni': 'https://b/',
  });
});
