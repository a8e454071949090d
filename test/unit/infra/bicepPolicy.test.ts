import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { appSettings, looksSecret, readBicep, statements, stripComments, type BicepStatement } from '../../helpers/bicep';

/** Security properties of infra/azure/main.bicep that a review should never have to re-check. */

const root = resolve(__dirname, '..', '..', '..', '..');
const bicep = readBicep(join(root, 'infra', 'azure', 'main.bicep'));
const resources = (type: string): BicepStatement[] => bicep.filter((s) => s.keyword === 'resource' && s.text.includes(`'${type}@`));
const problems = (list: string[]): string => `\n  ${list.join('\n  ')}`;

test('a parameter that looks secret is @secure()', () => {
  const params = bicep.filter((s) => s.keyword === 'param');
  assert.ok(params.length > 0);
  const bad = params.filter((p) => looksSecret(p.name) && !p.decorators.some((d) => d.startsWith('@secure()'))).map((p) => `param ${p.name} needs @secure()`);
  assert.deepEqual(bad, [], problems(bad));
});

test('no output carries a secret', () => {
  const outputs = bicep.filter((s) => s.keyword === 'output');
  assert.ok(outputs.length > 0);
  const bad = outputs
    .filter(
      (o) =>
        looksSecret(o.name) || o.decorators.some((d) => d.startsWith('@secure()')) || /\blist[A-Za-z]*\(|ConnectionString|secretUri|\.value\b/.test(o.text),
    )
    .map((o) => `output ${o.name} looks like a secret: ${o.text.trim()}`);
  assert.deepEqual(bad, [], problems(bad));
});

test('every Key Vault has soft delete and RBAC authorization, and no access policies', () => {
  const vaults = resources('Microsoft.KeyVault/vaults');
  assert.ok(vaults.length >= 2, "expected the platform vault and the organizations' vaults");
  const bad = vaults.flatMap((v) => [
    ...(/enableSoftDelete:\s*true/.test(v.text) ? [] : [`${v.name}: enableSoftDelete must be true`]),
    ...(/enableRbacAuthorization:\s*true/.test(v.text) ? [] : [`${v.name}: enableRbacAuthorization must be true`]),
    ...(/accessPolicies/.test(v.text) ? [`${v.name}: no access policies (RBAC only)`] : []),
  ]);
  assert.deepEqual(bad, [], problems(bad));
});

test('the Function App runs Node 22 on Flex Consumption with a system-assigned identity, HTTPS only', () => {
  const [site, ...others] = resources('Microsoft.Web/sites');
  assert.ok(site !== undefined && others.length === 0, 'expected one Microsoft.Web/sites');
  assert.match(site.text, /identity:\s*\{\s*type:\s*'SystemAssigned'\s*\}/);
  assert.match(site.text, /runtime:\s*\{\s*name:\s*'node',\s*version:\s*'22'\s*\}/);
  assert.match(site.text, /httpsOnly:\s*true/);
  assert.match(site.text, /ftpsState:\s*'Disabled'/);
  const [plan] = resources('Microsoft.Web/serverfarms');
  assert.match(plan?.text ?? '', /tier:\s*'FlexConsumption'/);
  // Flex Consumption takes the runtime from functionAppConfig and refuses these settings.
  assert.doesNotMatch(site.text, /FUNCTIONS_WORKER_RUNTIME|FUNCTIONS_EXTENSION_VERSION|WEBSITE_NODE_DEFAULT_VERSION/);
});

test('storage: TLS 1.2, no public blobs; the runtime account takes no shared key', () => {
  const accounts = resources('Microsoft.Storage/storageAccounts');
  assert.ok(accounts.length > 0);
  const bad = accounts.flatMap((a) => [
    ...(/minimumTlsVersion:\s*'TLS1_2'/.test(a.text) ? [] : [`${a.name}: minimumTlsVersion TLS1_2`]),
    ...(/allowBlobPublicAccess:\s*false/.test(a.text) ? [] : [`${a.name}: allowBlobPublicAccess false`]),
    ...(/supportsHttpsTrafficOnly:\s*true/.test(a.text) ? [] : [`${a.name}: supportsHttpsTrafficOnly true`]),
  ]);
  assert.deepEqual(bad, [], problems(bad));
  const runtime = accounts.find((a) => a.name === 'runtimeStorage');
  assert.match(runtime?.text ?? '', /allowSharedKeyAccess:\s*false/);
  const hostStorage = bicep.find((s) => s.keyword === 'var' && s.name === 'appSettings')?.text ?? '';
  assert.match(hostStorage, /name: 'AzureWebJobsStorage__accountName', value: runtimeStorage\.name/);
});

test('the run index is a table in the runtime account, shared by every instance, reached with the identity', () => {
  const setting = (name: string) => appSettings(bicep).find((e) => e.name === name)?.value;
  assert.equal(setting('RUN_INDEX'), "'table'", 'a scaled-out app must not keep the index on each instance');
  assert.equal(setting('RUN_INDEX_TABLE_URL'), 'runtimeStorage.properties.primaryEndpoints.table');
  assert.equal(setting('RUN_INDEX_TABLE_NAME'), 'runIndexTable.name');
  const [tableService] = resources('Microsoft.Storage/storageAccounts/tableServices');
  assert.match(tableService?.text ?? '', /parent:\s*runtimeStorage\b/);
  const roles = bicep.find((s) => s.keyword === 'var' && s.name === 'runtimeStorageRoles')?.text ?? '';
  assert.match(roles, /roles\.storageTableDataContributor/);
  assert.ok(resources('Microsoft.Authorization/roleAssignments').some((a) => /scope:\s*runtimeStorage\b/.test(a.text) && /runtimeStorageRoles/.test(a.text)));
});

test('Application Insights takes Entra-authenticated telemetry only, and the app may publish it', () => {
  const [insights] = resources('Microsoft.Insights/components');
  assert.match(insights?.text ?? '', /DisableLocalAuth:\s*true/);
  const assignments = resources('Microsoft.Authorization/roleAssignments');
  assert.ok(assignments.some((a) => /scope:\s*insights\b/.test(a.text) && /monitoringMetricsPublisher/.test(a.text)));
});

test("the organizations' secrets role grants only secret data actions, never keys, certificates or management", () => {
  const [role] = resources('Microsoft.Authorization/roleDefinitions');
  assert.ok(role !== undefined);
  const dataActions = [...role.text.matchAll(/'(Microsoft\.KeyVault\/[^']+)'/g)].map((m) => m[1]!);
  assert.deepEqual(dataActions.sort(), [
    'Microsoft.KeyVault/vaults/secrets/delete',
    'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    'Microsoft.KeyVault/vaults/secrets/purge/action',
    'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
    'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  ]);
  assert.match(role.text, /actions:\s*\[\]/);
});

test('the Bicep reader: comments go, strings with // and nested interpolations stay', () => {
  const text = stripComments("var a = 'https://x/${f('y//z', 1)}' // gone\n/* gone\ntoo */var b = '}'\n");
  assert.equal(text, "var a = 'https://x/${f('y//z', 1)}' \nvar b = '}'\n");
  assert.equal(looksSecret('storageAccountKey'), true);
  assert.equal(looksSecret('AZURE_FILES_CREDENTIAL'), true);
  assert.equal(looksSecret('dbConnectionString'), true);
  assert.equal(looksSecret('kubernetesNamespace'), false);
  assert.equal(looksSecret('KEY_VAULT_URL_UIS'), false);
  assert.equal(looksSecret('keyVaultKey'), true);
});

test('the Bicep reader: decorators belong to the statement below them', () => {
  const parsed = statements("@secure()\nparam storageKey string\n@description('x')\nparam accountKey string\noutput k string = s.listKeys().keys[0].value\n");
  assert.deepEqual(
    parsed.map((s) => [s.keyword, s.name, s.decorators]),
    [
      ['param', 'storageKey', ['@secure()']],
      ['param', 'accountKey', ["@description('x')"]],
      ['output', 'k', []],
    ],
  );
});
