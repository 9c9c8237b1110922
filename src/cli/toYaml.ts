/**
 * JSON-like data as YAML 1.2 (block style), without a dependency: mappings and sequences indented by two spaces,
 * strings quoted (JSON style) whenever YAML could read them as something else (a number, `true`, `null`, `~`, a
 * leading indicator character, `: ` or ` #` inside, leading or trailing blanks), numbers, booleans and null as
 * YAML scalars, empty mappings and sequences as `{}` and `[]`. Any YAML parser reads back what `JSON.stringify`
 * would have written.
 *
 * @example
 * toYaml({ node: 'a', epoch: 7, acting: true, lease: null, tags: ['x'] })
 * // 'node: a\nepoch: 7\nacting: true\nlease: null\ntags:\n  - x\n'
 */
export function toYaml(value: unknown): string {
  return `${block(value, 0).join('\n')}\n`;
}

function block(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`];
    return value.flatMap((item) => {
      if (isNested(item)) {
        const inner = block(item, indent + 2);
        return [`${pad}- ${inner[0]!.trimStart()}`, ...inner.slice(1)];
      }
      return [`${pad}- ${scalar(item)}`];
    });
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, inner]) => inner !== undefined);
    if (entries.length === 0) return [`${pad}{}`];
    return entries.flatMap(([key, inner]) => (isNested(inner) ? [`${pad}${scalar(key)}:`, ...block(inner, indent + 2)] : [`${pad}${scalar(key)}: ${scalar(inner)}`]));
  }
  return [`${pad}${scalar(value)}`];
}

/** A non-empty mapping or sequence: written on the lines below its key. */
function isNested(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== null && typeof value === 'object' && Object.values(value).some((inner) => inner !== undefined);
}

const PLAIN_UNSAFE = /^$|^[\s\-?:,[\]{}#&*!|>'"%@`~]|[\s]$|: |:$| #|[\x00-\x1f\x7f]|^(?:true|false|null|yes|no|on|off|y|n)$|^[-+]?(?:\d|\.\d|\.inf|\.nan)/i;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'object') return '{}';
  const text = String(value);
  return PLAIN_UNSAFE.test(text) ? JSON.stringify(text) : text;
}
