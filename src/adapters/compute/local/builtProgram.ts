import { accessSync, constants } from 'node:fs';

/** A program `npm run build` compiles where a C compiler is found (scripts/build-native.js):
 * its path when it was built and is executable here, looked for once; undefined otherwise
 * (the backend then uses its fallback). */
export function builtProgram(path: string): () => string | undefined {
  let found: string | null | undefined;
  return () => {
    if (found === undefined) {
      try {
        accessSync(path, constants.X_OK);
        found = path;
      } catch {
        found = null;
      }
    }
    return found ?? undefined;
  };
}
