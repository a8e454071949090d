/**
 * The layering, checked by `npm run lint` (dependency-cruiser). The arrows go one way:
 *   functions/, orchestrators/  ->  src/app  ->  src/ports  ->  src/core
 * core is pure (no SDK, no I/O); adapters wrap one external system each and never reach
 * into the embedded peer; the embedded host knows nothing of the app it runs; benches
 * share nothing with tests. docs/workflows.md and README.md ("Layout") say the same in prose.
 */
const CORE = '^src/core/';
/** The chaincode package (@ledgerflow/chaincode, a workspace), as imported: its build. */
const CHAINCODE = '^chaincode/dist/';
/** The composition root: the only app files that construct adapters. */
const ROOT = '^src/app/(services|compute|ledger)\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules import each other: split out what both need', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment:
        "src/core holds rules and values: it imports only core, zod, yaml, node:crypto, node:path and the chaincode's record types (no I/O, no SDK, no other layer)",
      from: { path: CORE },
      to: { pathNot: [CORE, '^node_modules/(zod|yaml)/', '^(crypto|path)$', CHAINCODE] },
    },
    {
      name: 'core-chaincode-types-only',
      severity: 'error',
      comment: "core takes the ledger's record types from @ledgerflow/chaincode (import type), never its runtime",
      from: { path: CORE },
      to: { path: CHAINCODE, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'console-is-a-browser-app',
      severity: 'error',
      comment:
        'the web console (console/, bundled by Vite) talks to the API over HTTP; it reuses only pure core (spec validation, receipt checks) and its browser packages',
      from: { path: '^console/' },
      to: { pathNot: ['^console/', CORE, '^node_modules/(preact|@dagrejs/dagre|openapi-fetch|yaml|zod|@noble/hashes)/'] },
    },
    {
      name: 'nothing-imports-the-console',
      severity: 'error',
      comment: "the app serves the console's build (dist/web), never its sources; only the shim's own test reads them",
      from: { pathNot: ['^console/', '^test/unit/console/'] },
      to: { path: '^console/' },
    },
    {
      name: 'ports-only-core',
      severity: 'error',
      comment: 'a port is an interface over core values; it imports nothing else',
      from: { path: '^src/ports/' },
      to: { pathNot: ['^src/ports/', CORE] },
    },
    {
      name: 'contracts-only-core',
      severity: 'error',
      comment: 'src/api holds the messages that cross a boundary (HTTP, queue, callback); it builds on core, zod and the NCRONTAB parser (src/time) only',
      from: { path: '^src/api/' },
      to: { pathNot: ['^src/api/', CORE, '^src/time/', '^node_modules/zod/'] },
    },
    {
      name: 'app-not-adapters',
      severity: 'error',
      comment: 'use cases reach adapters through ports; only the composition root constructs them',
      from: { path: '^src/app/', pathNot: ROOT },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'app-not-up',
      severity: 'error',
      comment: 'src/app is called by triggers and activities, never the other way',
      from: { path: '^src/app/' },
      to: { path: '^(functions|orchestrators)/' },
    },
    {
      name: 'triggers-not-adapters',
      severity: 'error',
      comment: 'functions/ and orchestrators/ reach the outside through src/app (Services, activity dependencies)',
      from: { path: '^(functions|orchestrators)/' },
      to: { path: '^src/(adapters|ledger-peer|host|durable)/' },
    },
    {
      name: 'orchestrators-not-functions',
      severity: 'error',
      from: { path: '^orchestrators/' },
      to: { path: '^functions/' },
    },
    {
      name: 'adapters-not-embedded-peer',
      severity: 'error',
      comment: 'production adapters do not depend on the embedded Fabric peer; the peer imports from the adapter',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(ledger-peer|app|host|durable)/|^(functions|orchestrators)/' },
    },
    {
      name: 'lower-layers-not-app',
      severity: 'error',
      comment:
        'core, ports, adapters, the embedded host, the durable engine and the peer never import the app (adapters may use the message contracts of src/api)',
      from: { path: '^src/(core|ports|adapters|host|durable|ledger-peer|fs|observability|time)/' },
      to: { path: '^src/(app|cli)/|^(functions|orchestrators)/' },
    },
    {
      name: 'host-not-app-settings',
      severity: 'error',
      comment: "the embedded host reads its own settings, not the app's",
      from: { path: '^src/(host|durable)/' },
      to: { path: '^src/config/' },
    },
    {
      name: 'bench-not-tests',
      severity: 'error',
      comment: 'shared harness code lives in bench/support; tests may import it, not the other way',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'product-not-tests',
      severity: 'error',
      from: { path: '^(src|functions|orchestrators)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '^chaincode/dist/'] },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
