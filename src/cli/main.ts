/**
 * `agctl`: the availability-group command line. Each subcommand lives in its own module and is loaded only when
 * it runs, so `agctl --help` starts fast.
 */
import type { CliCommand } from './command.js';
import { EXIT_USAGE } from './command.js';
import { didYouMean } from './didYouMean.js';

/** The subcommands, in the order `agctl --help` lists them. */
const COMMANDS: ReadonlyArray<{ name: string; summary: string; load: () => Promise<CliCommand> }> = [
  { name: 'start', summary: 'run one node: statechart, DNS client, peer transport and HTTP API', load: async () => (await import('./startCommand.js')).startCommand },
  { name: 'dns-server', summary: 'run the embedded authoritative DNS server for one zone', load: async () => { const { dnsServerCommand } = await import('./dnsServerCommand.js'); return { name: 'dns-server', summary: '', run: (argv) => dnsServerCommand([...argv]) }; } },
  { name: 'group', summary: 'show, create, update, join or leave a group, or remove a member (/group, /group/members)', load: async () => (await import('./groupCommand.js')).groupCommand },
  { name: 'status', summary: 'both nodes of the group in one table: role, epoch, DNS, heartbeat, lease, maintenance, app health', load: async () => (await import('./statusCommand.js')).statusCommand },
  { name: 'state', summary: "print a node's state (GET /ag/api/v1/state)", load: async () => (await import('./stateCommand.js')).stateCommand },
  { name: 'failover', summary: 'manual failover on a node, waiting until the new Primary acts (PUT /ag/api/v1/failover)', load: async () => (await import('./failoverCommand.js')).failoverCommand },
  { name: 'pause', summary: "pause the group's automatic takeover (maintenance mode on)", load: async () => (await import('./maintenanceCommand.js')).pauseCommand },
  { name: 'resume', summary: "resume the group's automatic takeover (maintenance mode off)", load: async () => (await import('./maintenanceCommand.js')).resumeCommand },
  { name: 'history', summary: "show a node's history, or both nodes' merged (GET /ag/api/v1/history)", load: async () => (await import('./historyCommand.js')).historyCommand },
  { name: 'config', summary: 'check a node config file (config validate) or print a commented example (config example)', load: async () => (await import('./configCommand.js')).configCommand },
  { name: 'demo', summary: 'run a failover demo and print its timeline (the main job: npm start)', load: async () => (await import('./demoCommand.js')).demoCommand },
  { name: 'chart', summary: 'export the statechart as SVG, Mermaid or DOT', load: async () => (await import('./chartCommand.js')).chartCommand },
  { name: 'inspect', summary: 'replay a trace or node event log in the inspector page', load: async () => (await import('./inspectCommand.js')).inspectCommand },
];

export const USAGE = `agctl: run and operate two-node availability groups

Usage: agctl <command> [options]
       agctl <command> --help

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`).join('\n')}

Options:
  -h, --help     show this help
  -v, --version  print the version
`;

/** Runs agctl with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${await packageVersion()}\n`);
    return 0;
  }
  const entry = COMMANDS.find((command) => command.name === name);
  if (entry === undefined) {
    const suggestion = didYouMean(name, COMMANDS.map((command) => command.name));
    process.stderr.write(`agctl: unknown command "${name}".${suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`} Run "agctl --help" for the list.\n`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  return command.run(rest);
}

/** The package's version, found by walking up from this module (it runs from src/ under tsx and from dist/). */
async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'availability-group') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
