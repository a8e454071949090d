/**
 * Kubernetes-style resource quantities a workflow spec uses (`500m` CPU, `512Mi` memory).
 * Parsed here once so the spec, the local sandbox and the Kubernetes adapter agree on their
 * meaning. Durations are src/core/duration.ts, shared with the CLI.
 */

export const CPU_QUANTITY = /^(?:[0-9]+(?:\.[0-9]+)?|[0-9]+m)$/;
export const MEMORY_QUANTITY = /^[0-9]+(?:\.[0-9]+)?(?:k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const MEMORY_FACTOR: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes in a memory quantity such as `512Mi` or `1G`. */
export function memoryBytes(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(quantity);
  const factor = match ? MEMORY_FACTOR[match[2] ?? ''] : undefined;
  if (!match || factor === undefined) throw new RangeError(`not a memory quantity: ${quantity}`);
  return Math.ceil(Number(match[1]) * factor);
}

/** CPUs in a CPU quantity such as `500m` (0.5) or `2`. */
export function cpuCount(quantity: string): number {
  if (!CPU_QUANTITY.test(quantity)) throw new RangeError(`not a CPU quantity: ${quantity}`);
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
