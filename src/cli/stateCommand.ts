import { API_CLIENT_HELP, apiCallCommand } from './apiClient.js';
import type { CliCommand } from './command.js';

const HELP = `agctl state: print a node's state (GET /ag/api/v1/state)

Usage: agctl state [--url <url>] [--token <token>] [--config <file>]

Prints the state as JSON: node_role, node_dns_connection_state, heartbeat_method, last_heartbeat_time,
last_updated (the product's keys), node_id, epoch, acting_primary, lease_remaining_ms, state.
Exit code 0 on success, 1 when the node answers with an error or cannot be reached.

Options:
${API_CLIENT_HELP}
  -h, --help         show this help
`;

/** `agctl state`. */
export const stateCommand: CliCommand = apiCallCommand({ name: 'state', summary: "print a node's state (GET /ag/api/v1/state)", help: HELP, method: 'GET', path: '/state' });
