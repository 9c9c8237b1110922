/**
 * availability-group/testing: the deterministic simulator, the properties of docs/design.md section 4, fast-check
 * arbitraries, and deliberately broken variants, for QA and for this project's own suites (docs/testing.md).
 *
 * Needs `fast-check` (the arbitraries are fast-check arbitraries): install it next to this package.
 */
export { runSimulation, describeFault, SIM_ADDRESSES, SIM_ETCD_ENDPOINTS, SIM_GROUP_FQDN, type SimulationOptions, type SimulationResult } from './simulation.js';
export {
  SIM_NODE_IDS,
  SIM_MEMBERS_RANGE,
  checkScenario,
  faultEnd,
  healthyScenario,
  memberIds,
  scenarioMembers,
  scenarioNodeIds,
  type Fault,
  type Scenario,
  type ScenarioClock,
  type ScenarioClocks,
  type ScenarioGroupSettings,
  type ScenarioNetwork,
  type SimNodeId,
  type WorkloadOp,
} from './scenario.js';
export {
  groupSettingsArbitrary,
  settingsInputArbitrary,
  clockArbitrary,
  networkArbitrary,
  faultScheduleArbitrary,
  workloadArbitrary,
  scenarioArbitrary,
  FAULT_MIXES,
  type FaultMix,
  type ScenarioShape,
} from './arbitraries.js';
export { SCENARIO_SHAPES, isScenarioShapeName, type ScenarioShapeName } from './scenarioShapes.js';
export {
  PROPERTY_DESCRIPTIONS,
  PROPERTY_NAMES,
  convergenceTiming,
  quietFrom,
  scenarioTimers,
  type ConvergenceTiming,
  type PropertyName,
  type Violation,
} from './properties.js';
export { checkSimulationProperties, scenarioFor, type PropertyCheckOptions, type PropertyCheckReport, type ScenarioSource } from './propertyCheck.js';
export { formatSummary, formatVerdict } from './summary.js';
export { BROKEN_VARIANTS, type BrokenVariant, type BrokenVariantName } from './brokenVariants.js';
export type { DnsVariantHook, DnsReadMemory } from './internal/simDns.js';
export type { PeerVariantHook } from './internal/simPeerNetwork.js';
export { formatTimeline, formatTimelineLine } from './timeline.js';
export {
  TRACE_FORMAT,
  TRACE_VERSION,
  type TraceDocument,
  type TraceEntry,
  type TransitionEntry,
  type ActingEntry,
  type ProgressEntry,
  type EmittedEntry,
  type MessageEntry,
  type DnsEntry,
  type FaultEntry,
  type WorkloadEntry,
  type ViolationEntry,
} from './trace.js';
export { Prng } from './internal/prng.js';
