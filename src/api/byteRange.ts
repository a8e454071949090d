/**
 * The one `Range` form a download needs (RFC 9110 14.1.2): a single byte range, `a-b`, `a-`
 * or `-n` (the last n bytes). Anything else (several ranges, other units, bad syntax) is
 * ignored and the whole content is served, as the RFC allows.
 */
export type RangeAnswer = { start: number; end: number } | 'unsatisfiable' | undefined;

export function parseByteRange(header: string | null | undefined, size: number): RangeAnswer {
  const match = /^bytes=(\d*)-(\d*)$/.exec((header ?? '').trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}
