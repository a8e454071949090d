/** One measured result. `baseline` is the same thing done the plain way in the same run;
 * `ratio` = value / baseline. `target` says what DESIGN.md asks, `ok` whether it was met. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly ratio?: number;
  readonly target?: string;
  readonly ok?: boolean;
}

/** A bench module: a name (for `npm run bench -- <filter>`) and a function measuring. */
export interface BenchModule {
  readonly name: string;
  run(): Promise<readonly BenchRow[]>;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The nearest-rank percentile `p` (0-100) of `values`. */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
};
