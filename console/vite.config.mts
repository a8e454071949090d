import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The web console's bundle, into dist/web (served by functions/console.ts). The core modules
 * it shares with the app (spec validation, receipt checks) import node:crypto and node:path
 * for one function each; the shims give the browser those functions. No inline script or
 * style may be emitted (the CSP forbids them): no modulepreload polyfill, no inlined assets.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: {
      'node:crypto': here('src/shims/crypto.ts'),
      'node:path': here('src/shims/path.ts'),
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    reportCompressedSize: false,
  },
});
