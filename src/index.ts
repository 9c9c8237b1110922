/**
 * availability-group: two-node high-availability groups whose Primary is named by a DNS A record.
 *
 * Workflows import `getNodeState`, `subscribe`, `requirePrimary` and the constants; services embed a node with
 * `createNode`. The simulator and fast-check arbitraries for QA are in `availability-group/testing`.
 */
export { NodeRole, NodeDnsConnectionState, HeartbeatMethod, EventId, EVENT_IDS } from './api/constants.js';
export type {
  NodeRoleChanged,
  DnsConnectionStateChanged,
  PrimarySuspected,
  TakeoverStarted,
  TakeoverAbandoned,
  LeaseLost,
  MaintenanceChanged,
  TakeoverMode,
  NodeEvent,
  NodeEventMap,
} from './api/events.js';
export type { NodeState, GroupMember, GroupMembers } from './api/nodeState.js';
export {
  AvailabilityGroupError,
  SettingsError,
  PersistedStateError,
  LeaseExpiredError,
  NotActingPrimaryError,
  MembershipError,
  GroupOperationError,
  FailoverError,
  GroupFullError,
  NoSuchMemberError,
  NodePortsError,
  PeerUnreachableError,
  PeerMessageRejectedError,
  NoDefaultNodeError,
  WorkflowLoadError,
  OptionalDependencyMissingError,
  type SettingsIssue,
} from './api/errors.js';
export { getNodeState, subscribe, requirePrimary, setDefaultNode, getDefaultNode } from './node/defaultNode.js';
export { createNode, type AvailabilityNode, type NodePorts, type PrimaryWork, type SettingsUpdate, type LeaveResult } from './node/createNode.js';
export { inMemoryPorts, type InMemoryPorts, type InMemoryPortsOptions } from './node/inMemoryPorts.js';
export type { Subscriber } from './node/subscriptions.js';
export {
  loadSettings,
  settingsSchema,
  redactSettings,
  groupSettingsFingerprint,
  groupChangeIssues,
  MAX_CLOCK_RATE_DRIFT,
  DEFAULT_LEASE_FRACTION,
  HEARTBEATS_PER_LEASE,
  MAX_TIMER_SECONDS,
  TSIG_ALGORITHMS,
  type Settings,
  type SettingsInput,
  type ConfigFileInput,
  type SettingsRecord,
  type TsigAlgorithm,
} from './node/settings.js';
export { systemClock, formatWallTime, type Clock } from './node/clock.js';
export { createLogger, silentLogger, type Logger, type LogFn } from './api/logger.js';
export { InMemoryNodeStore, FileNodeStore, type NodeStore, type PersistedNode } from './node/nodeStore.js';
export type { GroupAuthority, RecordsExpectation, RecordsReplacement, UpdateOptions } from './coordination/groupAuthority.js';
export type { DnsAuthority } from './dns/dnsAuthority.js';
export { InMemoryDnsAuthority } from './dns/inMemoryDnsAuthority.js';
export {
  DnsError,
  DnsPrerequisiteFailedError,
  DnsNotAuthorizedError,
  DnsClockSkewError,
  DnsNotInZoneError,
  DnsUnreachableError,
  DnsNotConfiguredError,
} from './dns/errors.js';
export { formatHeartbeatRecord, parseHeartbeatRecord, HEARTBEAT_RECORD_FORMAT } from './dns/heartbeatRecord.js';
export type { PeerTransport } from './peer/peerTransport.js';
export type { MemberAddress, PeerMessage, JoinRefusalCode, LeaveMessage, LeaveReply } from './peer/peerMessages.js';
export { InMemoryPeerNetwork } from './peer/inMemoryPeerNetwork.js';
export { nodeMachine, type NodeMachine } from '../machines/nodeMachine.js';
export { NodeTag } from '../machines/nodeTags.js';
export type { Heartbeat } from '../machines/heartbeat.js';
export { chartModel, type ChartModel, type ChartState, type ChartTransition } from './inspect/chartModel.js';
export { toMermaid } from './inspect/mermaid.js';
export { toDot } from './inspect/dot.js';
export { renderChartSvg } from './inspect/svg.js';
export { liveInspectionUrl, startLiveInspection, LiveInspectionError, type LiveInspection } from './inspect/liveInspector.js';
export { inspectorPlugin, InspectorConfigError, INSPECTOR_PATH, type InspectorPluginOptions } from './http/inspector/inspectorPlugin.js';
export { NodeEventLog, type NodeLogEntry } from './http/inspector/nodeEventLog.js';
export { readReplayTrace, TraceFormatError, type ReplayTrace } from './http/inspector/replayTrace.js';
