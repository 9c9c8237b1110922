/**
 * The properties can fail, and for the right reason: for each deliberately broken variant of the node, fast-check
 * finds, within the CI budget, a counterexample of the property the broken rule protects (the only property the
 * search checks). The real machine keeps that property (properties.test.ts), so the broken rule is the reason.
 */
import { describe, expect, it } from 'vitest';
import { BROKEN_VARIANTS, checkSimulationProperties, type BrokenVariant, type BrokenVariantName, type ScenarioShapeName } from '../src/testing/index.js';

/** Where each variant's counterexamples are most likely, and the most runs we allow to find one. */
const SEARCH: Readonly<Record<BrokenVariantName, { shape: ScenarioShapeName; numRuns: number }>> = {
  takeoverWithoutPrerequisites: { shape: 'mixed', numRuns: 60 },
  noLeaseCheck: { shape: 'mixed', numRuns: 80 },
  failbackOnRestart: { shape: 'crashes', numRuns: 80 },
  wallClockFreshness: { shape: 'mixed', numRuns: 30 },
  eventsAfterTheFact: { shape: 'mixed', numRuns: 10 },
  // A Primary must be handed over (an operator failover on it) for the late announcement to show.
  lateRoleAnnouncement: { shape: 'handovers', numRuns: 40 },
  // The Primary must crash (or be failed over by hand) while the Secondary's application is unhealthy.
  takeoverWhileUnhealthy: { shape: 'applicationHealth', numRuns: 40 },
  // A Secondary must be paused while its Primary is down for a whole failover period.
  ignoresMaintenance: { shape: 'maintenance', numRuns: 40 },
  // The Primary must crash (or go silent) for a takeover for absence to begin.
  takeoverBeforeDeadline: { shape: 'crashes', numRuns: 20 },
  // Three members (the variant's): the Primary must lose the authority and one Secondary while it reaches another.
  oneAcknowledgementConfirms: { shape: 'partialPartitions', numRuns: 40 },
  // Three members: the Primary must crash for the second in line to take over too early.
  ignoresTakeoverOrder: { shape: 'crashes', numRuns: 30 },
};

describe('broken variants are caught by the right property', () => {
  for (const [name, variant] of Object.entries(BROKEN_VARIANTS) as [BrokenVariantName, BrokenVariant][]) {
    const { shape, numRuns } = SEARCH[name];
    it(`${variant.name} (${variant.breaks}) violates ${variant.expected}`, async () => {
      // Only the named property is checked: a broken rule may break another property too, sometimes first (events
      // told late also make two nodes announce primary at once).
      const report = await checkSimulationProperties({ shape, seed: 1, numRuns, variant, shrink: false, properties: [variant.expected] });
      expect(report.failed, `no counterexample in ${report.runs} runs of shape ${shape}`).toBe(true);
      expect(report.violation?.property, report.message).toBe(variant.expected);
      // A variant that needs more members is searched with them, and its replay command says so.
      expect(report.counterexample?.members ?? 2).toBe(variant.members ?? 2);
      if ((variant.members ?? 2) > 2) expect(report.replay).toContain(`--members ${variant.members}`);
    });
  }
});
