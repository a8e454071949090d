import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, type Browser } from '../../../bench/support/browser';
import { repoRoot } from '../../../bench/support/host';
import { DatasetsApi, TOKENS } from '../datasets/client';

/**
 * The web console in headless Chromium against the real embedded host: bob (uio) registers a
 * dataset whose results he reviews; alice (uis), in another tab with her own token, leases it
 * and submits a workflow; bob approves it in his inbox; alice watches the DAG turn green
 * without reloading; bob releases the results; alice downloads one and verifies the receipt.
 * The page never runs anything the CSP refuses, and the hostile dataset name stays text.
 *
 * LEDGERFLOW_SCREENSHOTS=1 writes the screenshots of docs/console/ (docs/console.md).
 */
const skip = chromiumMissing();
const SHOTS = process.env['LEDGERFLOW_SCREENSHOTS'] === '1' ? join(repoRoot, 'docs', 'console') : mkdtempSync(join(tmpdir(), 'lf-shots-'));
const HOSTILE = '<script>alert(1)</script> survey <img src=x onerror=alert(2)>';

/** What the test reads inside the page (it compiles without the DOM library). Functions, not
 * strings: the console's CSP refuses string evaluation, as it should. */
interface InPage {
  location: { hash: string };
  sessionStorage: { length: number };
  document: { querySelectorAll(selector: string): { length: number }; documentElement: { scrollWidth: number; clientWidth: number } };
  scrollTo(x: number, y: number): void;
}

let api: DatasetsApi;
let browser: Browser;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '1' });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await api?.host.kill();
  if (!SHOTS.startsWith(repoRoot)) rmSync(SHOTS, { recursive: true, force: true });
});

/** A tab signed in as `who`; anything the page refuses (CSP), throws or alerts is a problem. */
async function tab(who: keyof typeof TOKENS): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`${who}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`${who}: a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`${api.host.url}/`);
  await page.fill('input[name=token]', TOKENS[who]);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

test('owner and consumer go from sign-in to a verified receipt in the browser', { skip, timeout: 120_000 }, async () => {
  const signIn = await browser.context.newPage();
  await signIn.goto(`${api.host.url}/`);
  await signIn.waitForSelector('input[name=token]');
  await shot(signIn, 'sign-in');
  // A wrong token: the API's own words, and no session.
  await signIn.fill('input[name=token]', 'not-a-token');
  await signIn.click('button[type=submit]');
  await signIn.waitForSelector('.error');
  assert.equal(await signIn.textContent('.error'), 'unauthenticated invalid token');
  assert.equal(await signIn.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length), 0);
  assert.doesNotMatch(signIn.url(), /not-a-token/);
  await signIn.close();

  // bob (uio) registers a dataset whose results he reviews; its name is hostile markup.
  const bob = await tab('bob');
  assert.equal(await bob.textContent('header .who'), 'bob@uioSign out');
  await bob.click('summary');
  await bob.fill('input[name=name]', HOSTILE);
  await bob.fill('input[name=description]', 'answers of the 2024 survey');
  await bob.selectOption('select[name=results]', 'review');
  await bob.fill('textarea[name=content]', 'a\nb\nc\n');
  await bob.click('form.grid button[type=submit]');
  await bob.waitForSelector('h1');
  await bob.waitForFunction(() => (globalThis as unknown as InPage).location.hash.startsWith('#/datasets/'));
  const datasetId = decodeURIComponent((await bob.evaluate(() => (globalThis as unknown as InPage).location.hash)).split('/')[2] ?? '');
  assert.match(datasetId, /^[0-9a-f]{32}$/);
  assert.equal(await bob.textContent('h1'), HOSTILE, 'the name is shown as text');
  assert.equal(await bob.locator('main script, main img').count(), 0, 'no element came from the name');
  await bob.waitForSelector('.timeline li');
  await bob.waitForSelector('.tree li');
  // The owner edits the policy; it is on the dataset after a reload.
  const limit = bob.locator('label:has-text("Largest results") input');
  await limit.fill('4096');
  await bob.click('button:text("Save policy")');
  await bob.waitForSelector('.timeline li:nth-child(2)');
  await bob.reload();
  assert.equal(await bob.locator('label:has-text("Largest results") input').inputValue(), '4096');
  await bob.waitForSelector('.tree li');
  await bob.waitForSelector('.timeline li:nth-child(2)');
  await shot(bob, 'dataset');

  // alice (uis), in her own tab and session, leases it and submits a workflow with a code file.
  const alice = await tab('alice');
  await alice.goto(`${api.host.url}/#/datasets/${datasetId}`);
  await alice.click('button:text("Lease")');
  await alice.waitForSelector('button:text("Release lease")');
  assert.equal(await alice.locator('label:has-text("Largest results") input').isDisabled(), true, 'only the owner edits the policy');
  assert.equal(await alice.locator('button:text("Save policy")').count(), 0);
  await alice.goto(`${api.host.url}/#/datasets`);
  await alice.waitForSelector('table');
  await shot(alice, 'datasets');
  await alice.goto(`${api.host.url}/#/submit`);
  await alice.fill('textarea[name=workflow]', 'jobs:\n  - command: 1\n    volumes: [{id: nope, name: d, path: /etc}]\ndags: [1 >> 3]\n');
  await alice.waitForSelector('.error li');
  const errors = await alice.locator('.error li').allTextContents();
  assert.ok(
    errors.some((e) => e.startsWith('jobs[0].volumes[0].path')),
    errors.join(' | '),
  );
  assert.ok(
    errors.some((e) => e.startsWith('dags[0]')),
    errors.join(' | '),
  );
  assert.equal(await alice.locator('button[type=submit]:text("Submit")').isDisabled(), true);
  await alice.fill(
    'textarea[name=workflow]',
    `jobs:\n  - name: count\n    command: 'sh count.sh'\n    volumes:\n      - {id: '${datasetId}', name: survey, path: /data/survey}\n  - name: report\n    command: 'echo "rows: $(cat count.txt)" > report.txt'\ndags:\n  - count >> report\n`,
  );
  await alice.fill('input[name=filePath]', 'count.sh');
  await alice.fill('textarea[name=fileContent]', 'wc -l < /data/survey/data.csv > count.txt\n');
  await alice.click('button:text("Add file")');
  await alice.waitForSelector('.verdict.ok');
  await shot(alice, 'submit');
  await alice.click('button[type=submit]:text("Submit")');
  await alice.waitForFunction(() => (globalThis as unknown as InPage).location.hash.startsWith('#/runs/'));
  const runId = decodeURIComponent((await alice.evaluate(() => (globalThis as unknown as InPage).location.hash)).split('/')[2] ?? '');
  await alice.waitForSelector('.status.s-awaitingapproval');
  assert.equal(await alice.locator('svg.dag g.node').count(), 2);
  assert.equal(await alice.locator('svg.dag polyline.edge').count(), 1);

  // bob approves in his inbox, where he reads the workflow and its code.
  await bob.goto(`${api.host.url}/#/approvals`);
  await bob.click(`a[href="#/approvals/${runId}"]`);
  await bob.waitForSelector('figure.code');
  const code = await bob.locator('figure.code pre').allTextContents();
  assert.ok(
    code.some((c) => c.includes('wc -l < /data/survey/data.csv')),
    'the code file is shown',
  );
  await shot(bob, 'approvals');
  await bob.click('button:text("Approve")');
  await bob.waitForSelector('.review .chip:has-text("approved")');

  // alice's page, never reloaded, follows the run until both jobs are green.
  await alice.waitForFunction(
    () => (globalThis as unknown as InPage).document.querySelectorAll('svg.dag g.node[data-status="Succeeded"]').length === 2,
    undefined,
    { timeout: 60_000 },
  );
  await alice.waitForSelector('h1 .status.s-succeeded');
  await alice.click('button.link:text("report")');
  await alice.waitForSelector('figcaption:text("Log of report")');
  await alice.waitForSelector('.card h2:text("Results")');
  await alice.waitForSelector('.status.s-pending-review');
  await shot(alice, 'run');

  // bob, whose dataset's policy says results: review, releases them.
  await bob.goto(`${api.host.url}/#/approvals`);
  await bob.click(`a[href="#/runs/${runId}"]`);
  await bob.click('button:text("Release results")');
  await bob.waitForSelector('p .status.s-released');

  // alice downloads the report and verifies the receipt, the file included.
  await alice.reload();
  await alice.waitForSelector('p .status.s-released');
  const [download] = await Promise.all([alice.waitForEvent('download'), alice.click('button[data-download="report.txt"]')]);
  const saved = await download.path();
  assert.equal(readFileSync(saved, 'utf8'), 'rows: 3\n');
  await alice.click('button[data-verify]');
  const verdict = (await alice.textContent('.verdict')) ?? '';
  assert.match(verdict, /^ok: \d+ ledger writes agree/);
  assert.match(verdict, /1 downloaded file matches the recorded sha256/);
  await alice.locator('.verdict').scrollIntoViewIfNeeded();
  await shot(alice, 'receipt');

  // The run page on a phone: the layout holds.
  await alice.setViewportSize({ width: 390, height: 844 });
  await alice.evaluate(() => (globalThis as unknown as InPage).scrollTo(0, 0));
  const overflow = await alice.evaluate(() => {
    const root = (globalThis as unknown as InPage).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
  await shot(alice, 'run-phone');

  assert.deepEqual(problems, []);
});

test('the served page has a CSP without unsafe-inline and no inline script or style', { skip }, async () => {
  const res = await fetch(`${api.host.url}/`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await res.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length > 0);
  for (const [tag, body] of scripts) {
    assert.match(tag, /\ssrc="\/assets\//, tag);
    assert.equal(body?.trim(), '', 'an inline script');
  }
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
});
