import type { Registry } from 'prom-client';
import type { AvailabilityNode } from '../node/createNode.js';
import { EventId, NodeRole } from '../api/constants.js';
import type { DelayQuantiles } from '../node/delayQuantiles.js';
import { EVENT_LOOP_DELAY_RESOLUTION_MS, EventLoopDelay } from '../node/eventLoopDelay.js';
import { heartbeatJitterOf } from '../node/heartbeatJitter.js';

/** Options of {@link NodeMetrics}. */
export interface NodeMetricsOptions {
  /** Also export the process metrics (CPU, memory, event loop) with the `ag_process_` prefix (default false). */
  readonly processMetrics?: boolean;
  /** Refused peer messages by reason, read at scrape time (the HTTP peer transport's `stats.refused`). */
  readonly peerRefusals?: () => Readonly<Record<string, number>>;
  /** Role-change hook runs by result (`success`, `failure`, `timeout`, `dropped`), read at scrape time (`RoleChangeHooks.counts`). */
  readonly hookRuns?: () => Readonly<Record<string, number>>;
  /** Monotonic milliseconds, the clock the node runs on (default `performance.now`). */
  readonly now?: () => number;
}

/** One scrape's windows of event loop delay and heartbeat send jitter. */
interface ScrapeWindows {
  readonly eventLoop: DelayQuantiles | null;
  readonly jitter: DelayQuantiles | null;
}

const ROLES = [NodeRole.PRIMARY, NodeRole.SECONDARY, NodeRole.NOT_IN_GROUP] as const;

/**
 * A node's Prometheus metrics in their own registry (several nodes can share a process): role, epoch, acting as
 * Primary, heartbeat age, lease left, failovers, role changes, DNS errors by kind, refused peer messages, and the
 * busy-machine figures: event loop delay and the Primary's heartbeat send jitter (p50, p99, max of the window since the
 * previous scrape; src/node/eventLoopDelay.ts, src/node/heartbeatJitter.ts). Events
 * are counted in plain fields from the start; prom-client is loaded and the registry built at the first scrape
 * (an unscraped node does not pay for it), and gauges are read from the node when scraped.
 *
 * @example
 * const metrics = new NodeMetrics(node);
 * app.get('/metrics', async (_, reply) => reply.type(metrics.contentType).send(await metrics.render()));
 */
export class NodeMetrics {
  /** The Content-Type of {@link render}'s text (Prometheus text format 0.0.4). */
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly #node: AvailabilityNode;
  readonly #options: NodeMetricsOptions;
  #failovers = 0;
  readonly #roleChanges = new Map<string, number>();
  readonly #dnsErrors = new Map<string, number>();
  #registry: Promise<Registry> | null = null;
  /** Started at the first scrape, as the registry (an unscraped node does not pay for its timer). */
  #eventLoopDelay: EventLoopDelay | null = null;
  /** This scrape's windows of event loop delay and heartbeat send jitter, taken once per scrape. */
  #windows: ScrapeWindows = { eventLoop: null, jitter: null };

  constructor(node: AvailabilityNode, options: NodeMetricsOptions = {}) {
    this.#node = node;
    this.#options = options;
    node.subscribe(EventId.NODE_ROLE_CHANGED, (change) => {
      this.#roleChanges.set(change.new, (this.#roleChanges.get(change.new) ?? 0) + 1);
      if (change.previous === NodeRole.SECONDARY && change.new === NodeRole.PRIMARY) this.#failovers += 1;
    });
  }

  /** Counts one failed DNS exchange; `kind` is taken from the error's code (e.g. `AG_DNS_UNREACHABLE` → `unreachable`). */
  countDnsError(error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    const kind = typeof code === 'string' ? code.replace(/^AG_DNS_/, '').toLowerCase() : 'other';
    this.#dnsErrors.set(kind, (this.#dnsErrors.get(kind) ?? 0) + 1);
  }

  /** The metrics in the Prometheus text format. */
  async render(): Promise<string> {
    this.#registry ??= this.#build();
    const registry = await this.#registry;
    this.#eventLoopDelay ??= new EventLoopDelay();
    this.#windows = { eventLoop: this.#eventLoopDelay.takeWindow(), jitter: heartbeatJitterOf(this.#node)?.takeWindow() ?? null };
    return registry.metrics();
  }

  async #build(): Promise<Registry> {
    const { Counter, Gauge, Registry: RegistryClass, collectDefaultMetrics } = await import('prom-client');
    const registry = new RegistryClass();
    const registers = [registry];
    const node = this.#node;
    const now = this.#options.now ?? (() => performance.now());
    const context = () => node.actor?.getSnapshot().context ?? null;
    /** A counter whose value is kept here: set from the field at scrape time. */
    const counted = (name: string, help: string, labelNames: string[], values: () => Iterable<[Record<string, string>, number]>) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const [labels, value] of values()) this.inc(labels, value);
        },
      });
    new Gauge({
      name: 'ag_node_role',
      help: 'The node role: 1 for the current role, 0 for the others.',
      labelNames: ['role'],
      registers,
      collect() {
        const role = context()?.role ?? null;
        for (const each of ROLES) this.set({ role: each }, each === role ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ag_maintenance',
      help: "1 while the group's automatic takeover is paused (maintenance mode), as this node knows; 0 otherwise.",
      registers,
      collect() {
        this.set(context()?.maintenance.enabled === true ? 1 : 0);
      },
    });
    new Gauge({ name: 'ag_node_epoch', help: 'The highest epoch this node knows.', registers, collect() { this.set(context()?.epoch ?? 0); } });
    new Gauge({ name: 'ag_node_acting_primary', help: '1 while this node acts as Primary (role primary and a valid lease).', registers, collect() { this.set(node.actor !== null && node.isActingPrimary() ? 1 : 0); } });
    new Gauge({
      name: 'ag_heartbeat_age_seconds',
      help: 'Seconds since the newest heartbeat: on a Secondary since (epoch, seq) last rose, on a Primary since its newest confirmed heartbeat was sent. NaN when there is none.',
      registers,
      collect() {
        const ctx = context();
        const since = ctx === null ? null : ctx.role === NodeRole.PRIMARY ? ctx.lease.lastConfirmedSentAt : ctx.progress.lastProgressAt;
        this.set(since === null ? Number.NaN : (now() - since) / 1000);
      },
    });
    new Gauge({
      name: 'ag_lease_remaining_seconds',
      help: 'Seconds of lease left on a Primary; 0 otherwise.',
      registers,
      collect() {
        const ctx = context();
        this.set(ctx?.role === NodeRole.PRIMARY && ctx.lease.leaseExpiresAt !== null ? Math.max(0, (ctx.lease.leaseExpiresAt - now()) / 1000) : 0);
      },
    });
    new Gauge({
      name: 'ag_application_healthy',
      help: "1 while this node's application health check says healthy, 0 while unhealthy or unknown; label check: command or url. Absent when no check is configured.",
      labelNames: ['check'],
      registers,
      collect() {
        this.reset();
        const health = context()?.health.applicationHealth ?? null;
        const check = node.settings.applicationHealth;
        if (health !== null && check !== null) this.set({ check: check.command !== undefined ? 'command' : 'url' }, health === 'healthy' ? 1 : 0);
      },
    });
    const windows = () => this.#windows;
    /** A gauge per quantile (0.5, 0.99) and one of the largest, read from this scrape's window. */
    const delayGauges = (name: string, help: string, pick: (taken: ScrapeWindows) => DelayQuantiles | null) => {
      new Gauge({
        name,
        help,
        labelNames: ['quantile'],
        registers,
        collect() {
          const window = pick(windows());
          this.set({ quantile: '0.5' }, window?.p50 ?? Number.NaN);
          this.set({ quantile: '0.99' }, window?.p99 ?? Number.NaN);
        },
      });
      new Gauge({ name: name.replace(/_seconds$/, '_max_seconds'), help: `The largest value of the same window as ${name}.`, registers, collect() { this.set(pick(windows())?.max ?? Number.NaN); } });
    };
    delayGauges(
      'ag_event_loop_delay_seconds',
      `Event loop delay of this process (perf_hooks.monitorEventLoopDelay, sampled every ${EVENT_LOOP_DELAY_RESOLUTION_MS} ms) over the window since the previous scrape: each scrape reads the histogram and resets it (with several scrapers each sees the part since the last scrape of any). Sampling starts at the first scrape, which shows NaN.`,
      (taken) => taken.eventLoop,
    );
    delayGauges(
      'ag_heartbeat_send_jitter_seconds',
      "How much later than due the Primary's direct heartbeats left (the send on the monotonic clock minus the previous send and the heartbeat interval), over the window since the previous scrape (reset at each scrape; the previous window's figures when none was sent since). NaN before the first.",
      (taken) => taken.jitter,
    );
    if (this.#options.peerRefusals !== undefined) {
      const refusals = this.#options.peerRefusals;
      new Gauge({
        name: 'ag_peer_messages_refused',
        help: 'Peer messages refused since start, by reason (signature, malformed, replay, group, not-listening, path-cut).',
        labelNames: ['reason'],
        registers,
        collect() {
          for (const [reason, count] of Object.entries(refusals())) this.set({ reason }, count);
        },
      });
    }
    counted('ag_failovers_total', 'Takeovers by this node: role changes from secondary to primary.', [], () => [[{}, this.#failovers]]);
    counted('ag_role_changes_total', 'Role changes of this node, by new role.', ['to'], () => [...this.#roleChanges].map(([to, value]) => [{ to }, value]));
    counted('ag_dns_errors_total', 'Failed DNS reads and updates, by kind (error code).', ['kind'], () => [...this.#dnsErrors].map(([kind, value]) => [{ kind }, value]));
    if (this.#options.hookRuns !== undefined) {
      const hookRuns = this.#options.hookRuns;
      counted('ag_hook_runs_total', 'Role-change hook (on_role_change) runs, by result: success, failure, timeout, dropped (a full queue).', ['result'], () => Object.entries(hookRuns()).map(([result, value]) => [{ result }, value]));
    }
    if (this.#options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'ag_process_', eventLoopMonitoringPrecision: 100 });
    return registry;
  }
}
