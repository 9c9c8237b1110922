/**
 * The JSON schema of `GET /ag/api/v1/state`'s answer: the product's keys (`heartbeat_method`, `last_heartbeat_time`,
 * `last_updated`, `node_dns_connection_state`, `node_role`) and this project's. The OpenAPI document lists it, and
 * the route uses it to compile its serializer.
 */
export const stateSchema = {
  type: 'object',
  properties: {
    heartbeat_method: { type: ['string', 'null'], enum: ['direct', 'dns', null] },
    last_heartbeat_time: { type: ['string', 'null'], description: 'ISO-8601 UTC with +00:00.' },
    last_updated: { type: ['string', 'null'], description: "The Secondary's last standby check, ISO-8601 UTC with +00:00; null on a Primary and outside a group." },
    node_dns_connection_state: { type: 'string', enum: ['connected', 'disconnected', 'not_applicable'] },
    node_role: { type: 'string', enum: ['primary', 'secondary', 'not_in_group'] },
    node_id: { type: 'string' },
    epoch: { type: 'integer' },
    acting_primary: { type: 'boolean', description: 'Role primary and a lease valid at the instant of the request.' },
    lease_remaining_ms: { type: ['integer', 'null'] },
    state: { type: 'string', description: 'The statechart state, e.g. secondary.watching.' },
    application_health: {
      type: ['string', 'null'],
      enum: ['healthy', 'unhealthy', 'unknown', null],
      description: "This node's application health check (health_command or health_url): unhealthy after health_failures failed checks in a row, unknown before the first verdict, null when none is configured. A Secondary takes over only while healthy (or with no check).",
    },
    maintenance: { type: 'boolean', description: "Maintenance mode: the group's automatic takeover is paused, as this node knows (PUT /maintenance)." },
  },
} as const;
