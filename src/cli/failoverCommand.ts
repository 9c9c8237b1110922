import { API_CLIENT_HELP, apiCallCommand } from './apiClient.js';
import type { CliCommand } from './command.js';

const HELP = `agctl failover: manual failover (PUT /ag/api/v1/failover)

Usage: agctl failover [--url <url>] [--token <token>] [--config <file>]

On the Primary, it hands over: it stops acting at once and the Secondary takes over without waiting for the
failover period. On the Secondary, it takes over: it asks the Primary to step down, or forces the takeover if the
Primary cannot be asked. Prints {"message": "Manual failover completed."} once the failover happened.
Exit code 0 on success, 1 otherwise.

Options:
${API_CLIENT_HELP}
  -h, --help         show this help
`;

/** `agctl failover`. */
export const failoverCommand: CliCommand = apiCallCommand({ name: 'failover', summary: 'manual failover on a node (PUT /ag/api/v1/failover)', help: HELP, method: 'PUT', path: '/failover' });
