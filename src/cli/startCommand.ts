import { readFileSync } from 'node:fs';
import { setDefaultNode } from '../node/defaultNode.js';
import { PersistedStateError, SettingsError, WorkflowLoadError } from '../api/errors.js';
import { NodeRole } from '../api/constants.js';
import { joinThroughDns } from '../node/joinThroughDns.js';
import { startNetworkedNode, type NetworkedNode } from '../http/networkedNode.js';
import { createLogger, type Logger } from '../api/logger.js';
import type { ConfigFileInput } from '../node/settings.js';
import { importWorkflow } from './importWorkflow.js';
import { PEER_MESSAGE_TYPES, type PeerPathCut, type PeerPathCutOf } from '../peer/httpPeerTransport.js';
import { waitFor } from './agctlProcess.js';
import { CliUsageError, parseCli, readConfigFile, runCli } from './cliConfig.js';
import type { CliCommand } from './command.js';

/** Exit code for a configuration the node refuses (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** Names a file whose existence cuts the peer path, its content saying which way (tests and drills); see docs/operations.md. */
export const PEER_CUT_FILE_ENV = 'AG_FAULT_PEER_CUT_FILE';

/**
 * The peer-path cut that the fault file asks for right now: `none` while it does not exist; otherwise its content
 * (any case): a direction, then optionally the message types it is limited to (separated by spaces or commas).
 * Empty or `both` cuts both ways, `in` cuts what this node receives, `out` what it sends and answers;
 * `out handover` loses only the answers to handover messages (and fails only this node's handover sends). Other
 * content (or a file that cannot be read) cuts everything both ways, and `onUnknown` is told the content.
 *
 * @example
 * peerPathCutFromFile('/tmp/cut') // 'none' until `echo out > /tmp/cut`, then 'out'
 */
export function peerPathCutFromFile(file: string, onUnknown: (content: string) => void = () => undefined): PeerPathCut | PeerPathCutOf {
  let content: string;
  try {
    content = readFileSync(file, 'utf8').trim().toLowerCase();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'both';
  }
  const [direction = 'both', ...types] = content.split(/[\s,]+/).filter((word) => word !== '');
  const known = (type: string): type is PeerPathCutOf['messageTypes'][number] => (PEER_MESSAGE_TYPES as readonly string[]).includes(type);
  if ((direction !== 'in' && direction !== 'out' && direction !== 'both') || !types.every(known)) {
    onUnknown(content);
    return 'both';
  }
  return types.length === 0 ? direction : { cut: direction, messageTypes: types.filter(known) };
}

/** How a cut reads in a log line: `out`, `out handover`. */
function describeCut(cut: PeerPathCut | PeerPathCutOf): string {
  return typeof cut === 'string' ? cut : `${cut.cut} ${cut.messageTypes.join(' ')}`;
}

const HELP = `agctl start: run one availability group node

Usage: agctl start --config <file.json> [--create-group | --join] [--join-timeout <s>] [--workflow <module>]

Runs the node's statechart with the real DNS client and the signed HTTP peer transport, and one HTTP server on
external_ipv4_address:external_port (the /ag/api/v1 API, health endpoints, /metrics, the peer routes). Logs are
pino JSON lines on stdout. SIGTERM or SIGINT stops it cleanly; an acting Primary with a healthy peer hands over
first.

The config file holds the settings (snake_case, see docs/operations.md). A node needs node_id,
external_ipv4_address, dns_server, api_token and peer_secret; the node that creates the group also needs
group_fqdn, tsig_name and tsig_secret (a joining node gets them from the Primary). Secrets can be kept out of
the config file: tsig_secret_file, api_token_file and peer_secret_file name a file holding the secret (read at
start, trailing newline trimmed). A bad file is refused with a message naming the field and the rule (exit
${EXIT_CONFIG}): a timer above 86400 s (1 day), a dns_server port outside 1-65535, a secret file that cannot be
read, a data_dir that is not a directory this node can write. A dns_server host name that does not resolve is
not refused: the node starts, logs a warning, and runs with DNS disconnected until the name resolves.

With coordination "etcd" the group runs on etcd keys instead of DNS records: etcd_endpoints (1 to 7,
[http(s)://]host:port) is then required and dns_server and the TSIG key are not (when set, the acting Primary
also keeps the group's A record, best effort); etcd_prefix (default /availability-group), etcd_ca_file,
etcd_cert_file + etcd_key_file and etcd_username + etcd_password_file (a file holding the password) configure it.

An application health check (health_command: program and arguments, run without a shell; or health_url, 2xx is
healthy; every health_interval s, each allowed health_timeout s) decides too: a Primary whose application failed
health_failures checks in a row hands over to a Secondary whose application is healthy, and a Secondary whose
application is not healthy never takes over (docs/operations.md, "Application health").

Membership persists in data_dir (node.json): a restarted node resumes its group and resolves its role from DNS;
the flags are then ignored. A node.json that is not valid is refused naming the file, the field and the rule
(exit ${EXIT_CONFIG}); a missing one is a first start.

Options:
  --config <file>       the node's settings (JSON)
  --create-group        create the group with this node as Primary (if not in a group yet)
  --join                join the group named by group_fqdn as Secondary: the Primary is found through the
                        group's A record on dns_server (with coordination etcd: its address key in etcd) and
                        reached on this node's port (if not in a group yet)
  --join-timeout <s>    keep trying to reach the Primary this long (default 30)
  --workflow <module>   your workflow code (an ES module, path relative to the working directory): imported once
                        the node is created and set as the default node, before it starts, so the
                        subscribe() calls it makes as it loads see every event from the first
                        NODE_ROLE_CHANGED (previous null) on; getNodeState() and requirePrimary() work from
                        the node's start on (call them from callbacks, not as the module loads). A module
                        that cannot be loaded stops the start (exit 1). See docs/library.md
  -h, --help            show this help

Environment:
  AG_LOG_LEVEL                log level (default info)
  ${PEER_CUT_FILE_ENV}      while this file exists the peer path is cut (fault drill); its content says which
                              way: empty or "both" (nothing sent or received), "in" (incoming peer requests
                              refused), "out" (sends fail; incoming messages are processed but never answered),
                              optionally followed by the message types the cut is limited to ("out handover")
  AG_HTTP_MAX_CONNECTIONS, AG_HTTP_MAX_CONNECTIONS_PER_ADDRESS, AG_HTTP_HEADERS_TIMEOUT, AG_HTTP_REQUEST_TIMEOUT,
  AG_HTTP_CONNECTION_TIMEOUT, AG_HTTP_KEEP_ALIVE_TIMEOUT, AG_HTTP_MAX_REQUESTS_PER_SOCKET
                              the HTTP server's connection limits (timeouts in seconds; defaults 512, 64, 10, 30,
                              60, 72, 1000): see docs/operations.md, "Connection limits"

Exit codes:
  0   stopped cleanly by SIGTERM or SIGINT
  1   the node could not form the group, a workflow module could not be loaded, or it did not stop cleanly
  2   usage error, or the config file cannot be read or is not JSON
  78  the config file or the state file (data_dir/node.json) is refused: fix the field named (systemd:
      RestartPreventExitStatus=78); "agctl config validate" lists every problem

Examples:
  agctl start --config /etc/availability-group/node.json --create-group   # the first node, once
  agctl start --config /etc/availability-group/node.json --join           # the second node, once
  agctl start --config /etc/availability-group/node.json                  # every later start
`;

/** `agctl start`. */
export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run one node: statechart, DNS client, peer transport and HTTP API',
  run: (argv) =>
    runCli('start', async () => {
      const { values } = parseCli(argv, {
        config: { type: 'string' },
        'create-group': { type: 'boolean', default: false },
        join: { type: 'boolean', default: false },
        'join-timeout': { type: 'string', default: '30' },
        workflow: { type: 'string' },
      });
      if (values.help) {
        process.stdout.write(HELP);
        return 0;
      }
      if (values.config === undefined) throw new CliUsageError('--config <file.json> is required');
      if (values['create-group'] && values.join) throw new CliUsageError('--create-group and --join exclude each other');
      const joinTimeoutS = Number(values['join-timeout']);
      if (!(joinTimeoutS > 0)) throw new CliUsageError('--join-timeout must be a number of seconds above 0');
      const input = await readConfigFile(values.config);
      if (values.workflow === '') throw new CliUsageError('--workflow needs the path of a module');
      return runNode(values.config, input, { createGroup: values['create-group'], join: values.join, joinTimeoutMs: joinTimeoutS * 1000, workflow: values.workflow });
    }),
};

async function runNode(
  file: string,
  input: Record<string, unknown>,
  flags: { createGroup: boolean; join: boolean; joinTimeoutMs: number; workflow: string | undefined },
): Promise<number> {
  const logger = createLogger({ name: 'agnode' });
  const cutFile = process.env[PEER_CUT_FILE_ENV];
  const warned = new Set<string>();
  const warnUnknownCut = (content: string) => {
    if (warned.has(content)) return;
    warned.add(content);
    logger.warn({ file: cutFile, content: content.slice(0, 80), messageTypes: PEER_MESSAGE_TYPES }, 'peer cut file: expected in, out or both, then message types if any; cutting everything both ways');
  };
  let lastCut = 'none';
  const noteCut = (cut: PeerPathCut | PeerPathCutOf) => {
    const described = describeCut(cut);
    if (described !== lastCut) logger.warn({ file: cutFile, from: lastCut, to: described }, `peer path cut: ${described} (fault switch)`);
    lastCut = described;
    return cut;
  };
  let running: NetworkedNode;
  try {
    // startNetworkedNode validates the config (SettingsError naming the field): the file's JSON goes in as it is.
    running = await startNetworkedNode(input as ConfigFileInput, {
      logger,
      // The default node is set, and the workflow loaded, before the node starts: its subscribers see the first event.
      configure: async (_app, node) => {
        setDefaultNode(node);
        if (flags.workflow !== undefined) {
          await importWorkflow(flags.workflow);
          logger.info({ workflow: flags.workflow }, 'workflow loaded');
        }
      },
      ...(cutFile === undefined || cutFile === '' ? {} : { peerPathCut: () => noteCut(peerPathCutFromFile(cutFile, warnUnknownCut)) }),
    });
  } catch (error) {
    setDefaultNode(null);
    if (error instanceof WorkflowLoadError) {
      logger.error({ err: error.cause, workflow: error.module }, 'could not load the workflow');
      process.stderr.write(`agctl start: ${error.message}\n`);
      return 1;
    }
    if (error instanceof SettingsError) {
      process.stderr.write(`agctl start: the config file ${file} is refused: ${error.issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}\n`);
      return EXIT_CONFIG;
    }
    if (error instanceof PersistedStateError) {
      process.stderr.write(
        `agctl start: the state file ${error.file} is refused: ${error.issues.map((issue) => `${issue.field}: ${issue.rule}`).join('; ')}. ` +
          'Fix the field named, or move the file away to start outside any group (then join again).\n',
      );
      return EXIT_CONFIG;
    }
    throw error;
  }
  const { node } = running;
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without a clean stop');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      running.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'the node did not stop cleanly');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  logger.info({ url: running.url, role: node.getNodeState().nodeRole, state: node.getNodeState().state }, 'node listening');
  try {
    await formGroup(running, flags, logger);
  } catch (error) {
    logger.error({ err: error }, 'could not form the group');
    process.stderr.write(`agctl start: ${(error as Error).message}\n`);
    await running.stop({ handOver: false });
    return 1;
  }
  const exitCode = await stopped;
  setDefaultNode(null);
  return exitCode;
}

async function formGroup(running: NetworkedNode, flags: { createGroup: boolean; join: boolean; joinTimeoutMs: number }, logger: Logger): Promise<void> {
  const { node } = running;
  if (!flags.createGroup && !flags.join) return;
  if (node.getNodeState().nodeRole !== NodeRole.NOT_IN_GROUP) {
    logger.info({ createGroup: flags.createGroup, join: flags.join }, 'already in a group (membership persisted in data_dir): flag ignored');
    return;
  }
  if (flags.createGroup) {
    await node.createGroup();
    return;
  }
  const { groupFqdn, externalScheme } = node.settings;
  if (groupFqdn === undefined) throw new SettingsError([{ field: 'group_fqdn', rule: 'is required to join a group' }]);
  // The A record on dns_server, or with coordination etcd the group's address key in etcd.
  const locate = running.locatePrimary;
  // The Primary may still be starting: try again until the deadline, each failure logged.
  let lastError: unknown = null;
  await waitFor(
    `the Primary of ${groupFqdn} to accept the join`,
    async () => {
      try {
        await joinThroughDns(node, locate, groupFqdn, externalScheme);
        return true;
      } catch (error) {
        if (node.getNodeState().nodeRole !== NodeRole.NOT_IN_GROUP) throw error;
        lastError = error;
        return false;
      }
    },
    flags.joinTimeoutMs,
    500,
  ).catch((error: unknown) => {
    throw lastError instanceof Error ? new Error(`${(error as Error).message} Last error: ${lastError.message}`) : error;
  });
}
