/**
 * Settings sync: a node's settings changes, and the group settings kept the same on both members. The Primary
 * pushes its group settings to the Secondary (and again when a heartbeat acknowledgement shows the Secondary runs
 * others); a Secondary asks the Primary to change them.
 */
import { NodeRole } from '../api/constants.js';
import { GroupOperationError, MembershipError, PeerMessageRejectedError, SettingsError } from '../api/errors.js';
import type { MemberAddress } from '../peer/peerMessages.js';
import type { GroupSettingsChangeMessage, GroupSettingsChangeReply, GroupSettingsMessage, GroupSettingsReply } from '../peer/peerMessages.js';
import type { SettingsUpdate } from './availabilityNode.js';
import { stampOf } from './clock.js';
import type { NodeCore } from './nodeCore.js';
import {
  GROUP_SETTING_FIELDS,
  groupChangeIssues,
  groupSettingsFingerprint,
  groupSettingsOf,
  isGroupSettingField,
  loadSettings,
  type Settings,
  type SettingsInput,
  type SettingsRecord,
} from './settings.js';

/** Node-level fields that come from the node's own configuration, never from a persisted or joined group. */
const NODE_FIELDS = [
  'node_id',
  'external_ipv4_address',
  'external_port',
  'dns_server',
  'api_token',
  'peer_secret',
  'data_dir',
  'tls_cert_file',
  'tls_key_file',
  'tls_ca_file',
  'inspect',
  'on_role_change',
  'on_role_change_timeout',
  'health_command',
  'health_url',
  'health_interval',
  'health_failures',
  'health_timeout',
  'etcd_ca_file',
  'etcd_cert_file',
  'etcd_key_file',
  'etcd_username',
  'etcd_password_file',
  'priority',
] as const satisfies readonly (keyof SettingsRecord)[];

/**
 * Settings from `base` for `groupFields`, the node's own configuration (`own`) for node fields; validated as a whole.
 *
 * @example
 * mergeSettings(persisted.settings, GROUP_SETTING_FIELDS, node.settings.record); // the group's timers, this node's address
 */
export function mergeSettings(base: SettingsRecord, groupFields: readonly (keyof SettingsRecord)[], own: SettingsRecord): Settings {
  const merged: Record<string, unknown> = { ...own };
  for (const field of groupFields) merged[field] = base[field];
  for (const field of NODE_FIELDS) merged[field] = own[field];
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return loadSettings(merged);
}

/** A node's settings changes and the group settings sync between Primary and Secondary. */
export class SettingsSync {
  readonly #core: NodeCore;
  /** When the Primary last pushed its group settings to a Secondary running others (monotonic), and whether it still waits. */
  #repair: { at: number; inFlight: boolean } | null = null;
  /** The last push of group settings to the Secondary: the next one waits for it. */
  #pushes: Promise<SettingsUpdate> = Promise.resolve({ secondary: 'none' });

  constructor(core: NodeCore) {
    this.#core = core;
  }

  /** `AvailabilityNode.updateSettings`: validated, put in force, persisted; group settings pushed to the Secondary. */
  async update(changes: Partial<SettingsInput>): Promise<SettingsUpdate> {
    const core = this.#core;
    const current = core.settings;
    const next = loadSettings({ ...current.record, ...changes });
    const context = core.snapshot().context;
    const groupChanged = context.inGroup && groupSettingsFingerprint(next.record) !== groupSettingsFingerprint(current.record);
    if (groupChanged) {
      if (context.role !== NodeRole.PRIMARY) throw new MembershipError('Group settings are changed on the Primary; this node is not the Primary.');
      const issues = groupChangeIssues(current, next);
      if (issues.length > 0) throw new SettingsError(issues);
    }
    // The Primary first, then the Secondary: with the check above, either may run the new timers before the other,
    // and a push (or a repair racing it) always carries the Primary's settings as they are when it is sent.
    core.runSettings(next);
    await core.persist();
    return groupChanged ? this.#push() : { secondary: 'none' };
  }

  /** `AvailabilityNode.changeGroupSettingsOnPrimary`: the Secondary asks its Primary over the peer channel. */
  async changeOnPrimary(changes: Partial<SettingsInput>): Promise<SettingsUpdate> {
    const core = this.#core;
    const { context } = core.snapshot();
    const primary = core.primaryMember();
    if (!context.inGroup || context.role === NodeRole.PRIMARY || primary === null) {
      throw new MembershipError('Group settings are forwarded to the Primary by a Secondary that knows its Primary; this node is not one.');
    }
    const groupSettings = Object.fromEntries(Object.entries(changes).filter(([field]) => isGroupSettingField(field)));
    const message: GroupSettingsChangeMessage = { type: 'group-settings-change', group: core.settings.groupFqdn ?? '', from: core.nodeId, epoch: context.epoch, groupSettings };
    const where = `The Primary ${primary.nodeId} (${primary.address}:${primary.port})`;
    let reply: GroupSettingsChangeReply;
    try {
      reply = await core.peer.send(primary, message);
    } catch (error) {
      const what = error instanceof PeerMessageRejectedError ? 'refused the request' : 'could not be reached';
      throw new GroupOperationError(`${where} ${what} to change the group settings (${(error as Error).message}); nothing was changed.`, { cause: error });
    }
    if (!reply.accepted) {
      if (reply.code === 'invalid' && reply.issues !== undefined && reply.issues.length > 0) throw new SettingsError(reply.issues);
      throw new GroupOperationError(`${where} could not change the group settings now: ${reply.reason ?? 'no reason given'}; nothing was changed.`);
    }
    return { secondary: reply.secondary ?? 'none', ...(reply.reason === undefined ? {} : { reason: reply.reason }) };
  }

  /**
   * The Primary's side of a change asked on the Secondary (`PUT /group` there): applied as this node's own
   * `updateSettings`, which pushes the settings back to the Secondary before the answer.
   */
  async acceptChange(message: GroupSettingsChangeMessage): Promise<GroupSettingsChangeReply> {
    const core = this.#core;
    const { context } = core.snapshot();
    if (!core.isActingPrimary()) return { accepted: false, code: 'not_acting_primary', reason: `${core.nodeId} is not the acting Primary` };
    if (message.epoch > context.epoch) return { accepted: false, code: 'not_acting_primary', reason: `${message.from} knows epoch ${message.epoch}, newer than epoch ${context.epoch} of ${core.nodeId}` };
    const issues = Object.keys(message.groupSettings)
      .filter((field) => !isGroupSettingField(field))
      .map((field) => ({ field, rule: 'is not a group setting: node settings change on their own node' }));
    if (issues.length > 0) return { accepted: false, code: 'invalid', reason: new SettingsError(issues).message, issues };
    try {
      const update = await this.update(message.groupSettings as Partial<SettingsInput>);
      core.logger.info({ from: message.from, fields: Object.keys(message.groupSettings) }, "group settings changed at the Secondary's request");
      return { accepted: true, secondary: update.secondary, ...(update.reason === undefined ? {} : { reason: update.reason }) };
    } catch (error) {
      if (error instanceof SettingsError) return { accepted: false, code: 'invalid', reason: error.message, issues: error.issues };
      if (error instanceof MembershipError) return { accepted: false, code: 'not_acting_primary', reason: error.message };
      throw error;
    }
  }

  /** The Secondary's side of a push: run the Primary's group settings, unless the sender is not its Primary. */
  async accept(message: GroupSettingsMessage): Promise<GroupSettingsReply> {
    const core = this.#core;
    const { context } = core.snapshot();
    if (!context.inGroup) return { accepted: false, reason: 'this node is not in a group' };
    if (context.role === NodeRole.PRIMARY) return { accepted: false, reason: 'this node is the Primary' };
    if (message.epoch < context.epoch) return { accepted: false, reason: `epoch ${message.epoch} is older than epoch ${context.epoch}, which this node knows` };
    // With more than two members another Secondary holds the peer secret too: only the holder of the epoch pushes.
    if (message.epoch === context.epoch && context.holder !== null && context.holder !== message.from && context.holder !== core.nodeId) {
      return { accepted: false, reason: `${message.from} is not the Primary of epoch ${context.epoch} (${context.holder} is)` };
    }
    let next: Settings;
    try {
      // Only the pushed values count: a group setting the Primary left unset falls back to its default here too.
      next = mergeSettings(message.groupSettings as SettingsRecord, GROUP_SETTING_FIELDS, core.settings.record);
    } catch (error) {
      if (error instanceof SettingsError) return { accepted: false, reason: error.message };
      throw error;
    }
    const changed = GROUP_SETTING_FIELDS.filter((field) => next.record[field] !== core.settings.record[field]);
    core.settings = next;
    core.send({ type: 'SETTINGS_CHANGED', timers: next.timers, at: stampOf(core.clock) });
    await core.persist();
    core.logger.info({ from: message.from, changed }, 'group settings updated by the Primary');
    return { accepted: true };
  }

  /**
   * A heartbeat acknowledgement showed the Secondary running other group settings (it missed a push): push them
   * again, one push at a time and at most once per failover period.
   */
  repair(): void {
    const core = this.#core;
    const now = core.clock.monotonicNow();
    const last = this.#repair;
    if (last !== null && (last.inFlight || now - last.at < core.settings.timers.absenceMs)) return;
    // Called from inside the heartbeat actor: it must never throw, or the heartbeat would count as failed.
    const context = core.currentSnapshot()?.context;
    if (context === undefined || context.role !== NodeRole.PRIMARY) return;
    const repair = { at: now, inFlight: true };
    this.#repair = repair;
    core.logger.info({ peer: core.peerMember?.nodeId }, 'a Secondary runs other group settings; pushing the current ones');
    void this.#push().finally(() => (repair.inFlight = false));
  }

  /**
   * The Primary's side of a push, queued behind any push in flight so that the Secondary receives them in order.
   * Never rejects: a Secondary that does not take the settings now gets them with a later heartbeat.
   */
  #push(): Promise<SettingsUpdate> {
    const push = this.#pushes.then(() => this.#sendGroupSettings());
    this.#pushes = push;
    return push;
  }

  /**
   * Sends the group settings in force now, with the epoch known now, to every Secondary at once: `updated` when each
   * took them, else the first that did not.
   */
  async #sendGroupSettings(): Promise<SettingsUpdate> {
    const core = this.#core;
    const context = core.currentSnapshot()?.context;
    if (core.members.length === 0 || context === undefined) return { secondary: 'none' };
    const settings = core.settings;
    const message: GroupSettingsMessage = { type: 'group-settings', group: settings.groupFqdn ?? '', from: core.nodeId, epoch: context.epoch, groupSettings: groupSettingsOf(settings.record) };
    const updates = await Promise.all(core.members.map((peer) => this.#sendGroupSettingsTo(peer, message)));
    return updates.find((update) => update.secondary !== 'updated') ?? updates[0]!;
  }

  /** Sends `message` to the Secondary `peer`; never rejects. */
  async #sendGroupSettingsTo(peer: MemberAddress, message: GroupSettingsMessage): Promise<SettingsUpdate> {
    const core = this.#core;
    try {
      const reply = await core.peer.send(peer, message);
      if (reply.accepted) return { secondary: 'updated' };
      core.logger.warn({ peer: peer.nodeId, reason: reply.reason }, 'the Secondary refused the group settings');
      return { secondary: 'pending', reason: `the Secondary refused them: ${reply.reason ?? 'no reason given'}` };
    } catch (error) {
      core.logger.warn({ peer: peer.nodeId, err: error }, 'could not push the group settings to the Secondary');
      return { secondary: 'pending', reason: `the Secondary could not be reached: ${(error as Error).message}` };
    }
  }
}
