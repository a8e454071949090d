import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The layering rules (.dependency-cruiser.cjs) fail on a wrong import. Each case lays out a
 * scratch tree with one import that breaks one rule and runs the same depcruise command
 * as `npm run lint:layers`; a rule that stops matching (a renamed folder, a typo in a
 * pattern) fails here instead of silently allowing everything.
 */
const repo = resolve(__dirname, '..', '..', '..', '..');
const config = join(repo, '.dependency-cruiser.cjs');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');

function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'layering-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const roots = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))];
    const r = spawnSync(depcruise, [...roots, '--config', config, '--output-type', 'err'], { cwd: dir, encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases: { rule: string; files: Record<string, string> }[] = [
  {
    rule: 'core-is-pure',
    files: { 'src/core/rule.ts': "import { x } from '../adapters/thing';\nexport const y = x;\n", 'src/adapters/thing.ts': 'export const x = 1;\n' },
  },
  { rule: 'core-is-pure', files: { 'src/core/rule.ts': "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n" } },
  {
    rule: 'core-chaincode-types-only',
    files: {
      'src/core/model.ts': "import { contracts } from '../../chaincode/dist/index';\nexport const y = contracts;\n",
      'chaincode/dist/index.js': 'exports.contracts = [];\n',
    },
  },
  {
    rule: 'ports-only-core',
    files: { 'src/ports/port.ts': "import { x } from '../app/service';\nexport const y = x;\n", 'src/app/service.ts': 'export const x = 1;\n' },
  },
  {
    rule: 'contracts-only-core',
    files: { 'src/api/routes.ts': "import { x } from '../app/service';\nexport const y = x;\n", 'src/app/service.ts': 'export const x = 1;\n' },
  },
  {
    rule: 'app-not-adapters',
    files: {
      'src/app/datasets/requests.ts': "import { x } from '../../adapters/storage/shareUrl';\nexport const y = x;\n",
      'src/adapters/storage/shareUrl.ts': 'export const x = 1;\n',
    },
  },
  {
    rule: 'triggers-not-adapters',
    files: {
      'functions/datasets.ts': "import { x } from '../src/adapters/ledger/fabricLedger';\nexport const y = x;\n",
      'src/adapters/ledger/fabricLedger.ts': 'export const x = 1;\n',
    },
  },
  {
    rule: 'adapters-not-embedded-peer',
    files: {
      'src/adapters/ledger/identities.ts': "import { x } from '../../ledger-peer/localCa';\nexport const y = x;\n",
      'src/ledger-peer/localCa.ts': 'export const x = 1;\n',
    },
  },
  {
    rule: 'host-not-app-settings',
    files: { 'src/host/host.ts': "import { x } from '../config/settings';\nexport const y = x;\n", 'src/config/settings.ts': 'export const x = 1;\n' },
  },
  {
    rule: 'bench-not-tests',
    files: { 'bench/durable.ts': "import { x } from '../test/helpers/host';\nexport const y = x;\n", 'test/helpers/host.ts': 'export const x = 1;\n' },
  },
  {
    rule: 'app-not-up',
    files: {
      'src/app/wiring.ts': "import { x } from '../../orchestrators/activities/deps';\nexport const y = x;\n",
      'orchestrators/activities/deps.ts': 'export const x = 1;\n',
    },
  },
  {
    rule: 'no-circular',
    files: {
      'src/core/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'src/core/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    },
  },
];

for (const { rule, files } of cases) {
  test(`a wrong import fails the layering check: ${rule} (${Object.keys(files)[0]})`, () => {
    const { status, output } = cruise(files);
    assert.notEqual(status, 0, output);
    assert.match(output, new RegExp(`error ${rule}:`), output);
  });
}

test('the same tree with the import the rules allow passes', () => {
  const { status, output } = cruise({
    'functions/datasets.ts': "import { x } from '../src/app/service';\nexport const y = x;\n",
    'src/app/service.ts': "import { p } from '../ports/port';\nexport const x = p;\n",
    'src/ports/port.ts': "import { c } from '../core/value';\nexport const p = c;\n",
    'src/core/value.ts': "import { createHash } from 'node:crypto';\nexport const c = createHash;\n",
  });
  assert.equal(status, 0, output);
});

test('no violation is waived: the lint runs without a baseline of known violations', () => {
  const scripts = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.doesNotMatch(scripts['lint:layers'] ?? '', /--ignore-known/);
  assert.equal(existsSync(join(repo, '.dependency-cruiser-known-violations.json')), false);
});
