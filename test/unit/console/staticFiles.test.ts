import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTENT_SECURITY_POLICY, consoleAnswer, safeSegments } from '../../../src/app/console/staticFiles';

/** The console's static files: only the build's own files, with the right headers. */
function withBuild(run: (root: string, outside: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lf-console-'));
  try {
    const root = join(dir, 'web');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><script type="module" src="/assets/a-1.js"></script>');
    writeFileSync(join(root, 'assets', 'a-1.js'), 'export {}');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'assets', 'link.txt'));
    run(root, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('index.html at / and for page paths, revalidated; hashed assets cached for a year; both with the CSP', () => {
  withBuild((root) => {
    for (const path of ['', 'runs', 'runs/abc']) {
      const a = consoleAnswer(path, root);
      assert.equal(a.status, 200, path);
      assert.equal(a.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(a.headers['cache-control'], 'no-cache');
      assert.equal(a.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    }
    const js = consoleAnswer('assets/a-1.js', root);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    assert.equal(consoleAnswer('assets/missing.js', root).status, 404);
  });
});

test('the CSP allows no inline script or style and no other host', () => {
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|https?:|\*/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'/);
  assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
});

test('path traversal is refused: dot segments, backslashes, NUL, drive letters, symlinks out of the build', () => {
  withBuild((root) => {
    for (const path of ['../secret.txt', 'assets/../../secret.txt', '..', './index.html', 'assets/..\\..\\secret.txt', 'a\u0000b', 'C:/x.txt']) {
      const a = consoleAnswer(path, root);
      assert.notEqual(a.status, 200, path);
      assert.doesNotMatch(a.body.toString(), /secret/, path);
    }
    assert.equal(safeSegments('../x'), undefined);
    assert.deepEqual(safeSegments('assets//a.js'), ['assets', 'a.js']);
    const link = consoleAnswer('assets/link.txt', root);
    assert.equal(link.status, 404);
    assert.doesNotMatch(link.body.toString(), /secret/);
  });
});

test('a missing build says how to make it', () => {
  const a = consoleAnswer('', join(tmpdir(), 'lf-no-such-console-build'));
  assert.equal(a.status, 503);
  assert.match(a.body.toString(), /npm run build/);
});
