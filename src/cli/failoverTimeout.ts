import { dnsBudgetMs } from '../dns/settingsDnsAuthority.js';

/** Slack for the HTTP round trip and a loaded machine, on top of what the settings need. */
const HTTP_SLACK_MS = 5000;

/**
 * Group settings the failover's timing depends on, as `GET /group` serves them (seconds): the timers from
 * `configuration`, `dns_server` from `configuration_extensions`.
 */
export interface FailoverTimingSettings {
  readonly health_report_interval?: unknown;
  readonly health_check_interval?: unknown;
  readonly allowed_absence_interval?: unknown;
  readonly dns_server?: unknown;
}

function secondsOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && value > 0 ? value : fallback;
}

/**
 * How long `agctl failover` waits for `PUT /failover` to answer, from the group settings (docs/design.md rule 6):
 *
 *   failover period + standby check interval + 8 × DNS budget + 2 × peer timeout + 5 s
 *
 * where the DNS budget is what one DNS request may take before it counts as unreachable (each attempt about one
 * heartbeat interval, 150 ms to 2 s, two attempts, one more for a `dns_server` host name) and the peer timeout is
 * about one heartbeat interval (100 ms to 5 s). The slowest paths of rule 6 fit in it: from the Secondary, a DNS
 * read, the step-down request, up to one standby check interval waiting for the offer, and a takeover that
 * re-reads and retries its compare-and-swap twice; or a forced takeover that waits out the old lease (less than
 * the failover period). From the Primary: the probe, the offer, a reclaim, and up to one lease until it acts again;
 * or, the answer lost and the reclaim lost, a read and up to one failover period until a heartbeat shows the new
 * Primary acts (then, without one, a lease's wait for this node to act again).
 * Missing settings count with the product's defaults (20, 30, 60 s): about 137 s then.
 *
 * @example
 * failoverTimeoutMs({ health_report_interval: 0.1, health_check_interval: 0.1, allowed_absence_interval: 0.5, dns_server: '127.0.0.1:53' }) // 8200
 */
export function failoverTimeoutMs(configuration: FailoverTimingSettings): number {
  const heartbeatMs = secondsOr(configuration.health_report_interval, 20) * 1000;
  const checkMs = secondsOr(configuration.health_check_interval, 30) * 1000;
  const absenceMs = secondsOr(configuration.allowed_absence_interval, 60) * 1000;
  const dnsServer = typeof configuration.dns_server === 'string' ? configuration.dns_server : undefined;
  const dnsMs = dnsBudgetMs({ dnsServer, tsigName: undefined, tsigSecret: undefined, tsigAlgorithm: 'hmac-sha256', timers: { heartbeatIntervalMs: heartbeatMs } });
  // The peer transport's timeout for a message (src/http/networkedNode.ts): about one heartbeat interval.
  const peerMs = Math.min(5000, Math.max(100, heartbeatMs));
  return Math.ceil(absenceMs + checkMs + 8 * dnsMs + 2 * peerMs + HTTP_SLACK_MS);
}
