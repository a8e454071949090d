import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The app's version: package.json at the app root (dist/functions/http -> ../../..). */
export const appVersion = (JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;
