/**
 * Application health (docs/design.md rule 10), as keepalived's `track_script`: a node's own application health check
 * (`health_command` or `health_url`) decides too. A Primary whose application failed `health_failures` checks in a
 * row hands over, through rule 6's safe path (probe, step down, offer), to a Secondary that reports a healthy
 * application; a Secondary whose application is not healthy never takes over. Pure: no I/O, no clock; times arrive
 * in the check events' stamps.
 */
import type { ApplicationHealth } from '../src/api/events.js';
import type { ApplicationHealthWatch, HandoverAnswerBody, HandoverProbeAnswer, HeartbeatAck, NodeContext, NodeContextPatch, Stamp } from './nodeMachine.types.js';

/** What a node knows of application health before its checker reports: no check configured. */
export const NO_APPLICATION_HEALTH = {
  applicationHealth: null,
  healthFailures: 0,
  healthFailureLimit: 1,
  peerApplicationHealth: null,
  healthHandoverAllowedFrom: null,
} as const satisfies ApplicationHealthWatch;

/** A checker started (`checked`) or stopped: the verdict starts again from `unknown` (or null: no check). */
export function configureApplicationHealth(event: { checked: boolean; failuresToFail: number }): NodeContextPatch {
  return { health: { applicationHealth: event.checked ? 'unknown' : null, healthFailures: 0, healthFailureLimit: Math.max(1, event.failuresToFail) } };
}

/**
 * The verdict after one more check: `healthy` after a passed check, `unhealthy` once `health_failures` checks in a
 * row failed; until then the verdict before stays (`unknown` after start).
 *
 * @example
 * applicationHealthAfter({ ...context, applicationHealth: 'healthy', healthFailures: 2, healthFailureLimit: 3 }, false)
 * // { health: 'unhealthy', failures: 3 }
 */
export function applicationHealthAfter(context: NodeContext, healthy: boolean): { health: ApplicationHealth; failures: number } {
  if (healthy) return { health: 'healthy', failures: 0 };
  const failures = context.health.healthFailures + 1;
  return { health: failures >= context.health.healthFailureLimit ? 'unhealthy' : (context.health.applicationHealth ?? 'unknown'), failures };
}

/** Whether a check result counts: a check reported after the checker was switched off (null) is ignored. */
export function applicationHealthIsChecked(context: NodeContext): boolean {
  return context.health.applicationHealth !== null;
}

/**
 * Whether this node's application may serve as Primary: no check configured, or the last verdict `healthy`. An
 * `unknown` or `unhealthy` application never takes over, for absence or by an offer.
 */
export function applicationCanServe(context: NodeContext): boolean {
  return context.health.applicationHealth === null || context.health.applicationHealth === 'healthy';
}

/** Rule 1 and 10: the Primary is absent, but this node's application cannot serve: it keeps watching. */
export function absentButApplicationCannotServe(context: NodeContext, primaryIsAbsent: boolean): boolean {
  return primaryIsAbsent && !applicationCanServe(context);
}

/** Why this node refuses to take over, in words. */
function cannotServeBecause(context: NodeContext): string {
  return `this node's application is ${context.health.applicationHealth ?? 'unknown'} (its health check must pass before it may take over)`;
}

/** The probe answer of a Secondary whose application cannot serve. */
export function applicationNotReady(context: NodeContext): HandoverProbeAnswer {
  return { ready: false, reason: cannotServeBecause(context) };
}

/** The offer answer of a Secondary whose application cannot serve. */
export function applicationRefusesOffer(context: NodeContext): HandoverAnswerBody {
  return { accepted: false, reason: cannotServeBecause(context) };
}

/** A manual failover asked on a Secondary whose application cannot serve: refused, nothing changed. */
export function failoverRefusedForApplication(context: NodeContext): { outcome: 'refused'; code: string; reason: string } {
  return { outcome: 'refused', code: 'application_unhealthy', reason: `${cannotServeBecause(context)}; nothing changed` };
}

/**
 * Rule 10: this check makes an acting Primary hand over. All of: its application is unhealthy after this check
 * (`health_failures` in a row); the Secondary's last accepted acknowledgement said its application is `healthy`
 * (unknown, unhealthy or unchecked: no handover), and it accepted one within the failover period; and this node has
 * acted, and not tried a handover for health, for a failover period (no flapping); and the group is not paused:
 * maintenance (rule 9) suspends every automatic change of Primary, as an operator who pauses to restart the
 * application expects.
 */
export function applicationCallsForHandover(context: NodeContext, check: { healthy: boolean; at: Stamp }): boolean {
  if (!applicationHealthIsChecked(context) || context.maintenance.enabled) return false;
  if (applicationHealthAfter(context, check.healthy).health !== 'unhealthy') return false;
  if (context.health.peerApplicationHealth !== 'healthy') return false;
  if (context.lease.peerAcceptedAt === null || check.at.monotonic - context.lease.peerAcceptedAt >= context.timers.absenceMs) return false;
  return context.health.healthHandoverAllowedFrom !== null && check.at.monotonic >= context.health.healthHandoverAllowedFrom;
}

/** Whether this check turns a checked application unhealthy (a node asking to take over then gives up). */
export function checkLeavesApplicationUnhealthy(context: NodeContext, check: { healthy: boolean }): boolean {
  return applicationHealthIsChecked(context) && applicationHealthAfter(context, check.healthy).health === 'unhealthy';
}

/** An acting Primary's first check starts its wait: no handover for health before a failover period has passed. */
export function watchApplicationAsPrimary(context: NodeContext, check: { at: Stamp }): NodeContextPatch {
  return context.health.healthHandoverAllowedFrom === null ? { health: { healthHandoverAllowedFrom: check.at.monotonic + context.timers.absenceMs } } : {};
}

/** A handover for health begins (it may yet be refused): the next one waits a failover period. */
export function beginHealthHandover(context: NodeContext, check: { at: Stamp }): NodeContextPatch {
  return { health: { healthHandoverAllowedFrom: check.at.monotonic + context.timers.absenceMs } };
}

/** What the Primary learns from an accepted acknowledgement: the Secondary's application health (absent: unknown). */
export function peerApplicationHealthFrom(ack: HeartbeatAck): Partial<ApplicationHealthWatch> {
  return { peerApplicationHealth: ack.applicationHealth === undefined ? 'unknown' : ack.applicationHealth };
}

/** What a Primary forgets when it steps down: the next time it acts, its wait for a health handover starts anew. */
export const HEALTH_HANDOVER_RESET = { healthHandoverAllowedFrom: null, peerApplicationHealth: null } as const satisfies Partial<ApplicationHealthWatch>;

/** Counts one check: the verdict and the failures in a row after it. */
export function recordHealthCheck(verdict: { health: ApplicationHealth; failures: number }): NodeContextPatch {
  return { health: { applicationHealth: verdict.health, healthFailures: verdict.failures } };
}

/** Why a Primary that probed its peer is handing over: a manual failover, or its application's health. */
export function handoverReason(context: NodeContext): { reason: string } {
  return { reason: context.failover.failoverPending ? 'manual failover' : 'application unhealthy' };
}
