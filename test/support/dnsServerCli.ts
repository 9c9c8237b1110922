/** Runs `agctl dns-server` by itself until the CLI's main.ts wires it in: `tsx test/support/dnsServerCli.ts <flags>`. */
import { dnsServerCommand } from '../../src/cli/dnsServerCommand.js';

process.exitCode = await dnsServerCommand(process.argv.slice(2));
