/** `build()`'s value, built on the first call and kept: a value made once, when first wanted
 * (the route table's schemas, src/api/routes.ts). */
export function once<T>(build: () => T): () => T {
  let value: { readonly v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

/** zod's parse options for a schema parsed once a process (settings, host.json): compiling
 * its fast path would cost more than the one parse it serves. */
export const PARSED_ONCE = { jitless: true } as const;
