import { API_CLIENT_HELP, apiCallCommand } from './apiClient.js';
import type { CliCommand } from './command.js';

const HELP = `agctl failover: manual failover (PUT /ag/api/v1/failover)

Usage: agctl failover [--url <url>] [--token <token>] [--config <file>]

On the Primary, it hands over: it first checks that the Secondary could take over now (it reads DNS), then stops
acting and the Secondary takes over without waiting for the failover period. On the Secondary, it takes over: it
checks DNS, asks the Primary to hand over, or forces the takeover if the Primary cannot be asked (acting once the
old lease has certainly ended). Prints {"message": "Manual failover completed."} once the new Primary acts.
A failover that cannot complete leaves the group as it was and says why (409: refused, e.g. in_progress or
not_ready; 503: something did not answer). Exit code 0 on success, 1 otherwise.

Options:
${API_CLIENT_HELP}
  -h, --help         show this help
`;

/** `agctl failover`. */
export const failoverCommand: CliCommand = apiCallCommand({ name: 'failover', summary: 'manual failover on a node (PUT /ag/api/v1/failover)', help: HELP, method: 'PUT', path: '/failover' });
