/**
 * "Did you mean": the edit distance (optimal string alignment) and the suggestion rule, and agctl using them for a
 * mistyped command and a mistyped flag (of `agctl dns-server` too).
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../src/cli/didYouMean.js';
import { main } from '../src/cli/main.js';
import { dnsServerCommand } from '../src/cli/dnsServerCommand.js';
import { parseCli } from '../src/cli/cliConfig.js';
import { captureCli } from './support/networkedGroup.js';

const COMMANDS = ['start', 'dns-server', 'group', 'status', 'state', 'failover', 'config', 'demo', 'chart', 'inspect'];

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['status', 'status', 0],
    ['stauts', 'status', 1],
    ['confg', 'config', 1],
    ['failvoer', 'failover', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
  ])('%j to %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });

  it('is 0 only for equal strings, symmetric, and between the length difference and the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const distance = editDistance(a, b);
        expect(distance === 0).toBe(a === b);
        expect(editDistance(b, a)).toBe(distance);
        expect(distance).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
        expect(distance).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
      { seed: 20261129, numRuns: 500 },
    );
  });

  it('one edit of any kind is distance 1', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 2, maxLength: 10 }), fc.nat(), fc.constantFrom('insert', 'delete', 'replace', 'swap'), (word, at, kind) => {
        const i = at % (word.length - 1);
        const edited =
          kind === 'insert' ? `${word.slice(0, i)}#${word.slice(i)}` : kind === 'delete' ? word.slice(0, i) + word.slice(i + 1) : kind === 'replace' ? `${word.slice(0, i)}#${word.slice(i + 1)}` : word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
        fc.pre(edited !== word && !word.includes('#'));
        expect(editDistance(word, edited)).toBe(1);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('didYouMean', () => {
  it.each([
    ['stauts', 'status'],
    ['STATUS', 'status'],
    ['failovr', 'failover'],
    ['confi', 'config'],
    ['grop', 'group'],
    ['inspekt', 'inspect'],
    ['dns', 'dns-server'],
  ])('%s suggests %s', (typed, meant) => {
    expect(didYouMean(typed, COMMANDS)).toBe(meant);
  });

  it.each(['xyz', 'q', 'deploy', 'restart-everything'])('%s suggests nothing', (typed) => {
    expect(didYouMean(typed, COMMANDS)).toBeUndefined();
  });

  it('suggests flags', () => {
    expect(didYouMean('--confg', ['--config', '--url', '--token'])).toBe('--config');
    expect(didYouMean('--tken', ['--config', '--url', '--token'])).toBe('--token');
  });
});

describe('agctl', () => {
  it('a mistyped command: exit 2 and "Did you mean"', async () => {
    const { code, stderr } = await captureCli(() => main(['stauts']));
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "stauts". Did you mean "status"?');
  });

  it('a command far from every other: no suggestion', async () => {
    const { code, stderr } = await captureCli(() => main(['frobnicate']));
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate".');
    expect(stderr).not.toContain('Did you mean');
  });

  it('a mistyped flag names the flag meant', () => {
    expect(() => parseCli(['--confg', 'a.json'], { config: { type: 'string' } })).toThrow('unknown option --confg (did you mean --config?)');
    expect(() => parseCli(['--confg=a.json'], { config: { type: 'string' } })).toThrow('did you mean --config?');
    expect(() => parseCli(['--zzzzzz'], { config: { type: 'string' } })).toThrow(/^unknown option --zzzzzz; see --help$/);
  });

  it('a mistyped action of group and config: exit 2 with the suggestion', async () => {
    const group = await captureCli(() => main(['group', 'shwo']));
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('got "shwo" (did you mean "show"?)');
    const config = await captureCli(() => main(['config', 'valdiate']));
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('got "valdiate" (did you mean "validate"?)');
    expect((await captureCli(() => main(['config']))).stderr).not.toContain('got');
  });

  it('a mistyped flag through a command: exit 2 with the suggestion', async () => {
    const { code, stderr } = await captureCli(() => main(['status', '--confg', 'a.json']));
    expect(code).toBe(2);
    expect(stderr).toContain('agctl status: unknown option --confg (did you mean --config?)');
  });

  it('a mistyped flag of dns-server (its own usage text): exit 2 with the suggestion, before anything starts', async () => {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const code = await dnsServerCommand(['--zone', 'example.test', '--listne', '127.0.0.1:5353'], { stderr });
    expect(code).toBe(2);
    expect(text).toContain('agctl dns-server: unknown option --listne (did you mean --listen?); see --help');
    expect(text).toContain('Usage: agctl dns-server');
    text = '';
    expect(await dnsServerCommand(['--tsig-secert-file', 'k'], { stderr })).toBe(2);
    expect(text).toContain('(did you mean --tsig-secret-file?)');
  });
});
