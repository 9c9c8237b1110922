/**
 * A plain-text table, as `patronictl list` prints one: a header row and one row per item, columns padded to their
 * widest cell and separated by two spaces, the last column unpadded. Cells are shown as given; null and undefined
 * as `-`.
 *
 * @example
 * renderTable(['NODE', 'ROLE'], [['a', 'primary'], ['b', 'secondary']])
 * // 'NODE  ROLE\na     primary\nb     secondary\n'
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers.map(String), ...rows.map((row) => headers.map((_, column) => cellText(row[column])))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * An object as aligned `key  value` lines (nested objects flattened to `parent.key`), for one item's details
 * (`agctl state`, `agctl group show`).
 *
 * @example
 * renderKeyValues({ node_role: 'primary', members: { primary: 'a' } })
 * // 'node_role        primary\nmembers.primary  a\n'
 */
export function renderKeyValues(value: Record<string, unknown>): string {
  const pairs = flatten(value, '');
  if (pairs.length === 0) return '';
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, cell]) => `${key.padEnd(width)}  ${cell}`.trimEnd()).join('\n') + '\n';
}

function flatten(value: Record<string, unknown>, prefix: string): [string, string][] {
  return Object.entries(value).flatMap(([key, inner]): [string, string][] => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length > 0) return flatten(inner as Record<string, unknown>, path);
    return [[path, cellText(inner)]];
  });
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
