/** Small statistics for the benchmarks: every figure is reported as median and spread over several runs. */

/** The value at quantile `q` (0..1) of `values`, by nearest rank on a sorted copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median, p99, min and max of a sample. */
export function summarize(values: readonly number[]): { median: number; p99: number; min: number; max: number; n: number } {
  return {
    median: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

/** One row of a benchmark table. */
export interface BenchRow {
  readonly figure: string;
  readonly median: string;
  readonly spread: string;
  readonly target: string;
  readonly ok: boolean | null;
}

/** Prints a titled table of benchmark rows to stdout. */
export function printTable(title: string, rows: readonly BenchRow[]): void {
  const header = ['figure', 'median', 'spread', 'target', 'met'];
  const body = rows.map((row) => [row.figure, row.median, row.spread, row.target, row.ok === null ? '-' : row.ok ? 'yes' : 'NO']);
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((line) => line[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const cells of body) console.log(line(cells));
}

/** Formats milliseconds with a sensible precision. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(3)} ms` : `${value.toFixed(1)} ms`;
}
