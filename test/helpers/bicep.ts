import { readFileSync } from 'node:fs';

/**
 * Just enough of Bicep to check main.bicep from tests: statements, parameters with their
 * decorators, outputs, and the app settings list. The Bicep compiler is a native binary
 * that the test machine cannot download, and no npm package parses Bicep without it, so
 * this reads the source; main.bicep is written in the plain style these functions expect
 * (one statement per column-0 keyword, one app setting per line).
 */

export interface BicepStatement {
  keyword: string;
  name: string;
  decorators: string[];
  text: string;
}

/** Removes // and /* *\/ comments, keeping strings (with nested interpolations) intact. */
export function stripComments(source: string): string {
  let out = '';
  // Stack of contexts: 'code' or 'string'; an interpolation `${` inside a string pushes code.
  const stack: ('code' | 'string')[] = ['code'];
  const braces: number[] = [0];
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const next = source[i + 1];
    const mode = stack[stack.length - 1];
    if (mode === 'string') {
      out += c;
      if (c === '\\') {
        out += next ?? '';
        i++;
      } else if (c === "'") {
        stack.pop();
      } else if (c === '$' && next === '{') {
        out += '{';
        i++;
        stack.push('code');
        braces.push(0);
      }
      continue;
    }
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 1;
      continue;
    }
    out += c;
    if (c === "'") stack.push('string');
    else if (c === '{') braces[braces.length - 1]! += 1;
    else if (c === '}') {
      if (braces[braces.length - 1] === 0 && stack.length > 1) {
        stack.pop();
        braces.pop();
      } else {
        braces[braces.length - 1]! -= 1;
      }
    }
  }
  return out;
}

const STATEMENT = /^(param|var|resource|output|module|type|func|targetScope|using|import|metadata)\b\s*([A-Za-z_][A-Za-z0-9_]*)?/;

/** Top-level statements: each starts at a column-0 keyword and takes the decorators above it. */
export function statements(source: string): BicepStatement[] {
  const result: BicepStatement[] = [];
  let decorators: string[] = [];
  let current: BicepStatement | undefined;
  for (const line of stripComments(source).split('\n')) {
    const match = STATEMENT.exec(line);
    if (match !== null) {
      current = { keyword: match[1]!, name: match[2] ?? '', decorators, text: line };
      decorators = [];
      result.push(current);
    } else if (line.startsWith('@')) {
      decorators.push(line.trim());
      current = undefined;
    } else if (current !== undefined) {
      current.text += `\n${line}`;
    }
  }
  return result;
}

export function readBicep(path: string): BicepStatement[] {
  return statements(readFileSync(path, 'utf8'));
}

export interface AppSetting {
  /** The name, with each interpolation `${...}` shown as `*`. */
  name: string;
  /** The value expression as written. */
  value: string;
}

/**
 * The entries `{ name: '...', value: ... }` of `var appSettings` and of the variables it
 * names (such as a generated per-organization list).
 */
export function appSettings(all: BicepStatement[], variable = 'appSettings'): AppSetting[] {
  const root = all.find((s) => s.keyword === 'var' && s.name === variable);
  if (root === undefined) throw new Error(`main.bicep has no var ${variable}`);
  const referenced = all.filter((s) => s.keyword === 'var' && s !== root && new RegExp(`\\b${s.name}\\b`).test(root.text));
  const entries: AppSetting[] = [];
  for (const statement of [root, ...referenced]) {
    for (const match of statement.text.matchAll(/name:\s*'((?:\$\{[^}]*\}|[^'\\]|\\.)*)'[\s,]*value:\s*([^\n]*)/g)) {
      entries.push({ name: match[1]!.replace(/\$\{[^}]*\}/g, '*'), value: match[2]!.replace(/\s*\}\s*$/, '').trim() });
    }
  }
  return entries;
}

/** The words of an identifier: camelCase and SNAKE_CASE split, lower-cased. */
export function words(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

const SECRET_WORDS = new Set(['key', 'keys', 'secret', 'secrets', 'password', 'passwd', 'pwd', 'token', 'tokens', 'credential', 'credentials', 'sas']);

/** Heuristic: a name that suggests it holds a secret (key, secret, password, token, connection string...). */
export function looksSecret(identifier: string): boolean {
  // "Key Vault" names the service, not a key: KEY_VAULT_URL_UIS is an address.
  const w = words(identifier).filter((x, i, all) => !(x === 'key' && all[i + 1] === 'vault'));
  if (w.some((x) => SECRET_WORDS.has(x))) return true;
  return w.join('').includes('connectionstring');
}
