/** What `agctl <command> --help` says, section by section. */
export interface HelpSpec {
  /** The command as typed after `agctl`: `status`, `config validate`. */
  readonly command: string;
  /** One line: what it does. */
  readonly summary: string;
  /** The usage lines, each without the leading `agctl `. */
  readonly usage: readonly string[];
  /** Paragraphs of explanation, as written (already wrapped). */
  readonly description?: string;
  /** `[flags, description]`; a description may span lines (`\n`), continued under its first line. */
  readonly options: readonly (readonly [string, string])[];
  /** `[code, meaning]`; a meaning may span lines (`\n`), continued under its first line. */
  readonly exitCodes: readonly (readonly [number, string])[];
  /** Command lines, each without the leading `agctl `; a `# comment` after two spaces is kept. */
  readonly examples: readonly string[];
  /** Further sections (`Environment:` ...), as written, after the exit codes. */
  readonly more?: string;
}

/** Every --help shows `-h, --help`. */
const HELP_ENTRY: readonly [string, string] = ['-h, --help', 'show this help'];

/**
 * A command's `--help` in the one format every agctl command uses: the summary line, Usage, the description,
 * Options with their descriptions aligned in one column, Exit codes, Examples.
 *
 * @example
 * helpText({ command: 'state', summary: "print a node's state", usage: ['state [--config <file>]'],
 *   options: [['--config <file>', "the node's config file"]], exitCodes: [[0, 'ok']], examples: ['state --config a.json'] })
 */
export function helpText(spec: HelpSpec): string {
  const options = [...spec.options, HELP_ENTRY];
  const width = Math.max(...options.map(([flags]) => flags.length)) + 2;
  const optionLines = options.flatMap(([flags, description]) => {
    const [first = '', ...rest] = description.split('\n');
    return [`  ${flags.padEnd(width)}${first}`.trimEnd(), ...rest.map((line) => `  ${' '.repeat(width)}${line}`.trimEnd())];
  });
  const codeWidth = Math.max(...spec.exitCodes.map(([code]) => String(code).length)) + 2;
  const sections = [
    `agctl ${spec.command}: ${spec.summary}`,
    spec.usage.map((line, index) => `${index === 0 ? 'Usage: ' : '       '}agctl ${line}`).join('\n'),
    ...(spec.description === undefined ? [] : [spec.description.trimEnd()]),
    `Options:\n${optionLines.join('\n')}`,
    `Exit codes:\n${spec.exitCodes.map(([code, meaning]) => `  ${String(code).padEnd(codeWidth)}${meaning.split('\n').join(`\n  ${' '.repeat(codeWidth)}`)}`).join('\n')}`,
    ...(spec.more === undefined ? [] : [spec.more.trimEnd()]),
    `Examples:\n${spec.examples.map((line) => `  agctl ${line}`).join('\n')}`,
  ];
  return `${sections.join('\n\n')}\n`;
}
