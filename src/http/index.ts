/**
 * availability-group/http: a node on the network. `startNetworkedNode` runs one the way `agctl start` does (its
 * `configure` option adds your routes to the node's server); `availabilityGroupPlugin` embeds a node's API, health,
 * metrics and peer routes in a fastify app, with the `app.requirePrimary` preHandler; `inspectorPlugin` serves the
 * inspector (also exported by the main entry).
 */
export { startNetworkedNode, type NetworkedNode, type NetworkedNodeOptions } from './networkedNode.js';
export type { ConfigFileInput, SettingsInput } from '../node/settings.js';
export type { Logger } from '../api/logger.js';
// The inspector's plugin and log, also exported by the main entry: every fastify plugin of the package is here.
export { inspectorPlugin, InspectorConfigError, INSPECTOR_PATH, type InspectorPluginOptions } from './inspector/inspectorPlugin.js';
export { NodeEventLog, type NodeLogEntry } from './inspector/nodeEventLog.js';
export { readSecretFiles, readSecretFile } from '../node/secretFiles.js';
export {
  DEFAULT_HTTP_CONNECTION_LIMITS,
  HTTP_LIMIT_ENV,
  applyHttpConnectionLimits,
  closeWithin,
  fastifyConnectionOptions,
  httpConnectionLimitsFromEnv,
  resolveHttpConnectionLimits,
  type HttpConnectionLimits,
} from './httpConnectionLimits.js';
export { availabilityGroupPlugin, API_PREFIX, API_BODY_LIMIT, type AvailabilityGroupPluginOptions } from './availabilityGroupPlugin.js';
export { requirePrimaryHook } from './requirePrimaryHook.js';
export { apiRoutes, ApiMessage, type ApiRoutesOptions } from './apiRoutes.js';
export { healthRoutes } from './healthRoutes.js';
export { ApiError, type ApiErrorBody } from './apiError.js';
export { NodeMetrics, type NodeMetricsOptions } from './nodeMetrics.js';
export { openApiDocument } from './openApiDocument.js';
export { createPrimaryLocator, lookupAddress, type PrimaryLocator } from '../dns/primaryLocator.js';
export { joinThroughDns } from '../node/joinThroughDns.js';
export { SettingsDnsAuthority, type SettingsDnsAuthorityOptions, type DnsClientSettings } from '../dns/settingsDnsAuthority.js';
export {
  createHttpPeerTransport,
  PEER_MESSAGE_PATH,
  PEER_NONCE_PATH,
  type HttpPeerTransport,
  type HttpPeerTransportOptions,
  type HttpPeerTransportStats,
} from '../peer/httpPeerTransport.js';
export { PeerReplayGuard, type PeerReplayGuardOptions } from '../peer/peerReplayGuard.js';
