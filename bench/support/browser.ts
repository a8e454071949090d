import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's chromium (installed by .ci/run), driven by playwright-core, for the web console's
 * browser tests and its bench row. The flags keep it off the network it would otherwise try
 * (the machines have none, and chromium then hangs on connections); the profile is a fresh
 * temp dir, removed on close.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const chromiumMissing = (): string | false => (existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian: apt-get install chromium)`);

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'lf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    acceptDownloads: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
