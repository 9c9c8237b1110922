import { FAULT_MIXES, type ScenarioShape } from './arbitraries.js';

/**
 * Named scenario shapes: the property suites draw scenarios from these, and `npm run sim -- --shape <name> --seed S
 * --path P [--members N]` replays a fast-check case from one of them. Each draws for two nodes, or for `members`
 * (scenarioArbitrary's shape option, `--members`): faults and operator actions then name any of them. Every shape
 * draws the group's timers with `groupSettingsArbitrary` (failover period 0.3 s to 60 s), each node's clock with `clockArbitrary`, the network
 * with `networkArbitrary`, 10 to 25 failover periods in which faults and operator actions start (each after the
 * first two periods and at least one period before the end of that part), and, for four scenarios in five, a quiet
 * tail after the last fault and operator action long enough for `convergence` to be checked for one to two
 * failover periods. Fault durations are a twentieth of a failover period to three of them; a slow link or slow DNS
 * adds 1 ms to half a failover period, or for half of them at most a fifth of the request timeout (still within
 * it). Operator actions are three in four a failover on one node (either), one in four on both at once.
 *
 * - `mixed`: up to 3 faults of any kind (crash, pause, partition one- or two-way, lossy link, slow link, DNS
 *   outage, slow DNS, DNS cut of one node), and up to 2 operator actions at any time.
 * - `heavy`: up to 12 faults of any kind, and up to 3 operator actions at any time.
 * - `crashes`: up to 3 faults, each a crash (twice as likely; one in four never restarts), a lossy link or a slow
 *   link; no operator actions.
 * - `healthyPaths`: up to 3 faults, each a partition (one- or two-way), a lossy link, a slow link or slow DNS: no
 *   node fault, no DNS outage or cut; no operator actions.
 * - `dnsOutages`: up to 4 faults, each a DNS outage (twice as likely), slow DNS or a DNS cut of one node, up to 3
 *   failover periods long, while the direct path has no fault; up to 3 operator actions, three in four of them
 *   during one of those faults.
 * - `maintenance`: up to 3 faults, each a crash (twice as likely; one in four never restarts), a lossy link or a
 *   slow link; up to 5 operator actions, two in three pausing or resuming automatic takeover on one node (rule 9),
 *   the others failovers, half of them during a fault.
 * - `handovers`: up to 3 one-way partitions of the peer path (either direction), no other fault; up to 4 operator
 *   actions (on either node or on both at once), half of them during a partition.
 * - `applicationHealth`: every node checks its application (docs/design.md rule 10: a check every heartbeat
 *   interval, 1 to 3 failures in a row); up to 4 faults, each an application turning unhealthy (three times as
 *   likely) or a crash; up to 1 operator action.
 * - `partialPartitions`: up to 4 faults, each a partition (twice as likely: between two nodes, one- or two-way, or
 *   with more than two members for half of them one node cut off from all the others) or a DNS cut of one node;
 *   half of the partitions also cut their sending node off the authority for the same span, so a Primary may reach
 *   some members but not the authority (the rule that every member must acknowledge); no operator actions.
 */
export const SCENARIO_SHAPES = {
  mixed: { mix: FAULT_MIXES.light, maxOps: 2 },
  heavy: { mix: FAULT_MIXES.heavy, maxOps: 3 },
  crashes: { mix: { maxFaults: 3, kinds: ['crash', 'crash', 'lossy', 'slowLink'] }, maxOps: 0 },
  healthyPaths: { mix: { maxFaults: 3, kinds: ['partition', 'lossy', 'slowLink', 'dnsSlow'] }, maxOps: 0 },
  dnsOutages: { mix: { maxFaults: 4, kinds: ['dnsOutage', 'dnsOutage', 'dnsSlow', 'dnsCut'] }, maxOps: 3, opsDuringFaults: 0.75 },
  handovers: { mix: { maxFaults: 3, kinds: ['partition'], oneWay: true }, maxOps: 4, opsDuringFaults: 0.5 },
  maintenance: { mix: { maxFaults: 3, kinds: ['crash', 'crash', 'lossy', 'slowLink'] }, maxOps: 5, opsDuringFaults: 0.5, maintenance: true },
  applicationHealth: { mix: { maxFaults: 4, kinds: ['appUnhealthy', 'appUnhealthy', 'appUnhealthy', 'crash'] }, maxOps: 1, applicationHealth: true },
  partialPartitions: { mix: { maxFaults: 4, kinds: ['partition', 'partition', 'dnsCut'], partitionCutsAuthority: 0.5 }, maxOps: 0 },
} as const satisfies Record<string, ScenarioShape>;

export type ScenarioShapeName = keyof typeof SCENARIO_SHAPES;

/** Whether `name` is a known shape. */
export function isScenarioShapeName(name: string): name is ScenarioShapeName {
  return Object.hasOwn(SCENARIO_SHAPES, name);
}
