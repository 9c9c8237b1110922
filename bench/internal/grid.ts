/**
 * Prints a titled table with any columns (bench/stats.ts's `printTable` has fixed ones): every column as wide as
 * its widest cell.
 *
 * @example
 * printGrid('Failover', ['interval', 'median'], [['0.1 s', '296.0 ms']]);
 */
export function printGrid(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => widths.map((width, column) => (cells[column] ?? '').padEnd(width)).join(' | ').trimEnd();
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}
