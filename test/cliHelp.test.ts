/**
 * Every agctl command's --help in one format: the summary line, Usage, Options with their descriptions aligned in
 * one column, Exit codes, Examples.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { captureCli } from './support/networkedGroup.js';

const COMMANDS = ['start', 'dns-server', 'group', 'status', 'state', 'failover', 'pause', 'resume', 'history', 'config', 'demo', 'chart', 'inspect'];

/** The lines of one section: from its title to the next blank line followed by a title. */
function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start === -1) return [];
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line, index) => line === '' && /^[A-Z][A-Za-z ]*:$/.test(rest[index + 1] ?? ''));
  return (end === -1 ? rest : rest.slice(0, end)).filter((line) => line !== '');
}

describe('agctl <command> --help', () => {
  it.each(COMMANDS)('%s: Usage, Options, Exit codes, Examples; option descriptions aligned', async (command) => {
    const { code, stdout } = await captureCli(() => main([command, '--help']));
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^agctl ${command}: \\S`));
    expect(stdout).toMatch(new RegExp(`\\nUsage: agctl ${command}\\b`));
    const options = section(stdout, 'Options');
    expect(options.some((line) => /^ {2}-h, --help +show this help$/.test(line))).toBe(true);
    // Each option line's description starts in the same column as -h's.
    const column = /^ {2}-h, --help +/.exec(options.find((line) => line.startsWith('  -h, --help'))!)![0].length;
    for (const line of options) {
      if (/^ {2}-/.test(line)) expect(line.slice(0, column).trimEnd().length, line).toBeLessThan(column - 1);
      if (/^ {2}-/.test(line)) expect(line[column - 1], line).toBe(' ');
      if (/^ {2}-/.test(line)) expect(line[column], line).not.toBe(' ');
    }
    const exitCodes = section(stdout, 'Exit codes');
    expect(exitCodes.some((line) => /^ {2}0 +\S/.test(line))).toBe(true);
    expect(exitCodes.some((line) => /^ {2}2 +\S/.test(line))).toBe(true);
    const examples = section(stdout, 'Examples');
    expect(examples.length).toBeGreaterThan(0);
    for (const line of examples) expect(line).toMatch(/^ {2}(\S+=\S+ )?agctl /);
  });

  it('agctl --help lists status and config', async () => {
    const { stdout } = await captureCli(() => main(['--help']));
    expect(stdout).toMatch(/^ {2}status +both nodes of the group in one table/m);
    expect(stdout).toMatch(/^ {2}config +check a node config file/m);
  });
});
