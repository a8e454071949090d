import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONSOLE_ROOT } from '../src/app/console/staticFiles';
import { chromiumMissing, launchChromium } from './support/browser';
import { startHost } from './support/host';
import { median, type BenchModule, type BenchRow } from './types';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);

/** Bytes the browser downloads for the console's first page, gzipped as a server would send. */
function bundleGzipBytes(): number {
  const assets = join(CONSOLE_ROOT, 'assets');
  const files = [join(CONSOLE_ROOT, 'index.html'), ...readdirSync(assets).map((f) => join(assets, f))];
  return files.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
}

/**
 * The web console: its bundle size (gzip) and the time from navigating to `/` to the first
 * rendered page (the sign-in form) in headless Chromium against the embedded host, cold (a
 * fresh profile) and warm (cached assets, the median of the next loads). No target yet.
 */
export const consoleBench: BenchModule = {
  name: 'console',
  async run() {
    const rows: BenchRow[] = [{ name: 'bundle size (gzip)', value: bundleGzipBytes() / 1024, unit: 'KiB', target: 'none yet' }];
    const missing = chromiumMissing();
    if (missing) {
      process.stderr.write(`bench: console first render skipped: ${missing}\n`);
      return rows;
    }
    const host = await startHost({ settings: { LEDGERFLOW_TOKENS: '{}' } });
    const browser = await launchChromium();
    try {
      const times: number[] = [];
      // Chromium's own first-page start-up is not the console's: pay it on a blank page.
      await (await browser.context.newPage()).goto('about:blank');
      for (let i = 0; i <= RUNS; i++) {
        const page = await browser.context.newPage();
        const started = performance.now();
        await page.goto(`${host.url}/`, { waitUntil: 'commit' });
        await page.waitForSelector('input[name=token]');
        times.push(performance.now() - started);
        await page.close();
      }
      rows.push({ name: 'first render, cold', value: times[0] as number, unit: 'ms', target: 'none yet' });
      rows.push({ name: 'first render, warm (median)', value: median(times.slice(1)), unit: 'ms', target: 'none yet' });
    } finally {
      await browser.close();
      await host.kill();
    }
    return rows;
  },
};
