/**
 * Fabric orders keys by their UTF-8 bytes (LevelDB, and SQLite BLOB/BINARY comparisons,
 * do the same). JavaScript compares UTF-16 code units, which disagrees for characters
 * beyond U+FFFF against U+E000..U+FFFF, so StateReader implementations and the simulator
 * sort with this instead of `<`.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Maps a UTF-16 code unit so that unit order equals code point (= UTF-8 byte) order:
 * surrogates (D800-DFFF, only used above U+FFFF) move above E000-FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
