/** `build()`'s value, built on the first call and kept: a value made once, when first wanted
 * (the route table's schemas, src/api/routes.ts). */
export function once<T>(build: () => T): () => T {
  let value: { readonly v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}
