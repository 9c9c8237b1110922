import { EXIT_CONFIG } from './startCommand.js';
import { CliUsageError, parseCli, readConfigFile, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';
import { EXIT_USAGE } from './command.js';
import { EXAMPLE_SECRETS, summarizeSettings, validateConfigFile } from './configValidation.js';
import { suggestion } from './didYouMean.js';
import { helpText } from './helpText.js';
import { formatOutput, OUTPUT_OPTION, OUTPUT_OPTION_HELP, outputFormatOf } from './outputFormat.js';
import { renderKeyValues, renderTable } from './renderTable.js';

/**
 * The commented example config `agctl config example` prints: every line `agctl config validate` accepts (whole-line
 * `//` comments are allowed in config files), with placeholder secrets that validate warns about.
 */
export const EXAMPLE_CONFIG = `// availability-group node config: agctl config example > /etc/availability-group/node.json
// Whole-line // comments are allowed. Check the file with: agctl config validate --config <file>
// Every setting is described in docs/operations.md ("Running a node").
{
  // This node: its id (in the TXT record), and the address it listens on and the A record names while it is Primary.
  "node_id": "node-a",
  "external_ipv4_address": "192.0.2.10",
  // API and peer port, the same on both nodes. "https" needs tls_cert_file and tls_key_file (and tls_ca_file for a private CA).
  "external_port": 8080,
  "external_scheme": "http",
  // The authoritative DNS server (host:port) that takes TSIG-signed RFC 2136 updates for the group's zone.
  "dns_server": "192.0.2.53:53",
  // Or run the group on etcd instead of DNS records (dns_server and the TSIG key then optional):
  // "coordination": "etcd", "etcd_endpoints": ["https://192.0.2.61:2379", "https://192.0.2.62:2379", "https://192.0.2.63:2379"],
  // "etcd_ca_file": "/etc/availability-group/etcd-ca.pem", "etcd_username": "ag", "etcd_password_file": "/etc/availability-group/etcd-password",
  // Settings and membership persist here (created with mode 0700); without it nothing survives a restart.
  "data_dir": "/var/lib/availability-group",
  // The group. The node that creates it needs the TSIG key; a joining node gets the key from the Primary.
  "group_fqdn": "app.example.com",
  "group_fqdn_ttl": 30,
  "tsig_name": "ag-key",
  "tsig_algorithm": "hmac-sha256",
  // Secrets: replace these placeholders (openssl rand -base64 32; peer_secret the same on both nodes), or better
  // keep each in a file of mode 0600 and name it instead: "api_token_file", "peer_secret_file", "tsig_secret_file".
  "api_token": "${EXAMPLE_SECRETS.api_token}",
  "peer_secret": "${EXAMPLE_SECRETS.peer_secret}",
  "tsig_secret": "${EXAMPLE_SECRETS.tsig_secret}",
  // Optional: the application's own health check (a command, or an http(s) URL), every health_interval seconds.
  // "health_url": "http://127.0.0.1:8000/healthz",
  // "health_command": ["/usr/local/bin/check-app", "--quick"],
  // Optional: a command run on every role change.
  // "on_role_change": ["/usr/local/bin/on-role-change"],
  // Timers in seconds, fractions allowed (the product's defaults): heartbeat, standby check, failover period.
  // The lease (lease_duration) defaults to 0.75 of the failover period.
  "health_report_interval": 20,
  "health_check_interval": 30,
  "allowed_absence_interval": 60
}
`;

const HELP = helpText({
  command: 'config',
  summary: 'check a node config file, or print a commented example',
  usage: ['config validate --config <file> [-o table|json|yaml]', 'config example'],
  description: `  validate  checks the file as "agctl start" would, listing every problem (field, value, rule) instead of
            stopping at the first: JSON, every setting's rule, the timer rules (once the fields are valid), the
            secret files, what a networked node needs (api_token, peer_secret, dns_server unless coordination is
            etcd; TLS files for https), that the TLS and etcd files can be read and data_dir is a directory. Secrets are never shown. Prints "ok" and
            a summary when the file is valid. Nothing is started and nothing is written.
  example   prints a commented example config (whole-line // comments are allowed in config files) that
            validate accepts; its placeholder secrets are warned about.`,
  options: [['--config <file>', 'validate: the config file to check'], OUTPUT_OPTION_HELP],
  exitCodes: [
    [0, 'validate: the file is valid (warnings may be printed); example: printed'],
    [EXIT_USAGE, 'usage error'],
    [EXIT_CONFIG, 'validate: the file has problems, each listed'],
  ],
  examples: ['config validate --config /etc/availability-group/node.json', 'config example > node.json'],
});

/** `agctl config validate|example`. */
export const configCommand: CliCommand = {
  name: 'config',
  summary: 'check a node config file (config validate) or print a commented example (config example)',
  run: (argv) =>
    runCli('config', async () => {
      const { values, positionals } = parseCli(argv, { config: { type: 'string' }, ...OUTPUT_OPTION }, true);
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      const [action, ...rest] = positionals;
      if (rest.length > 0) throw new CliUsageError(`unexpected argument ${rest[0]}`);
      if (action === 'example') {
        process.stdout.write(EXAMPLE_CONFIG);
        return 0;
      }
      if (action !== 'validate') throw new CliUsageError(`give an action: validate or example (agctl config --help)${suggestion(action, ['validate', 'example'])}`);
      if (values.config === undefined) throw new CliUsageError('config validate needs --config <file>');
      const format = outputFormatOf(values.output);
      const file = values.config;
      const result = await validateConfigFile(file);
      if (!result.ok) {
        const report = { ok: false, file, problems: result.problems };
        const text = formatOutput(report, format, () =>
          `agctl config validate: ${file} has ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}:\n` +
          renderTable(['FIELD', 'VALUE', 'RULE'], result.problems.map((problem) => [problem.field, problem.value, problem.rule])),
        );
        (format === 'table' ? process.stderr : process.stdout).write(text);
        return EXIT_CONFIG;
      }
      for (const warning of result.warnings) process.stderr.write(`agctl config validate: warning: ${warning}\n`);
      const summary = summarizeSettings(result.settings, await readConfigFile(file));
      process.stdout.write(formatOutput({ ok: true, file, summary, warnings: result.warnings }, format, () => `ok: ${file}\n${renderKeyValues(summary).replace(/^(?=.)/gm, '  ')}`));
      return 0;
    }),
};
