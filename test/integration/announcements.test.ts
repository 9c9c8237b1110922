/**
 * What a group of two real node processes ANNOUNCES, over the embedded DNS server and over BIND 9 (one body per
 * server). Each scenario records both nodes' event streams (every NODE_ROLE_CHANGED, DNS_CONNECTION_STATE_CHANGED,
 * LEASE_LOST, TAKEOVER_* ... as the nodes log them, stamped with the machine's monotonic clock: see
 * test/support/announcements.ts), merges them into one time line and checks that
 *
 * (a) at no instant did both nodes announce `primary`: the span from a node's `→ primary` to its next `primary →`
 *     never overlaps the other node's, not even by a fraction of a millisecond; and a node that lost its lease
 *     announces stepping down before its peer acts (starts a takeover or announces primary);
 * (b) nothing was announced that did not happen: each node's chain is consistent (`previous` = the last `new`), no
 *     role changes where none should happen, and the last announcements match GET /state and the DNS records.
 *
 * The scenarios: a manual failover asked of the Primary and of the Secondary; a handover whose answer is lost (the
 * Secondary's way back to the Primary cut with the one-way fault switch: everything it says, or only its answer to
 * the handover); the DNS server paused (SIGSTOP) for two failover periods while the direct path works. Every scenario starts its own group, so one that ends badly does
 * not spoil the next. Deadlines derive from the timers; the only fixed waits are the pause itself and the windows
 * in which something must NOT happen.
 */
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { bindUnavailableReason } from '../support/bind.js';
import { startCluster, waitFor, type DnsKind, type TestCluster, type TestNode, type TestTimers } from '../support/processes.js';
import {
  chainIssues,
  groupNow,
  machineMonotonicMs,
  mergedAnnouncements,
  only,
  overlappingTenures,
  pollStates,
  saveNodeLogs,
  settledFinalStateIssues,
  stepDownIssues,
  timeline,
  type Announcement,
  type StateSample,
} from '../support/announcements.js';

/** The group's timers, seconds (heartbeat, standby check, failover period): the fast ones of the other integration tests. */
const TIMERS: TestTimers = { heartbeat: 0.1, check: 0.1, absence: 0.5 };
/**
 * The DNS pause checks that the Primary acts at EVERY poll, so its lease (0.75 × the failover period) must outlast a
 * CPU-starved moment on two fully loaded cores. With the fast timers (a 0.375 s lease) it did not always: after the
 * pause, a poll found the lease lapsed with both heartbeats of a round still in flight and nothing refused or failed
 * in the logs: the load alone had delayed them. Twice the fast timers.
 */
const PAUSE_TIMERS: TestTimers = { heartbeat: 0.2, check: 0.2, absence: 1 };
/** Anything the group does after an action (a takeover, a reconnection) fits many times into this, even on two loaded cores. */
const settleMs = (timers: TestTimers) => 20 * timers.absence * 1000;
const SETTLE_MS = settleMs(TIMERS);
const PAUSE_SETTLE_MS = settleMs(PAUSE_TIMERS);
const PAUSE_ABSENCE_MS = PAUSE_TIMERS.absence * 1000;
/** How long the DNS server stays paused: two failover periods, long enough for a takeover if silence were absence. */
const PAUSE_MS = 2 * PAUSE_ABSENCE_MS;
/** After the DNS server resumes: the window in which a late effect of the pause (a lost lease, a flip) would show. */
const AFTERMATH_MS = 2 * PAUSE_ABSENCE_MS;

const bindMissing = bindUnavailableReason();
if (bindMissing !== null && process.env.CI) throw new Error(`The BIND half must run in CI: ${bindMissing}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Waits for one acting Primary whose lease the direct path confirms (its `heartbeat_method` says direct: the Secondary
 * accepted a heartbeat within two heartbeat intervals), a Secondary that gets direct heartbeats, both connected to
 * DNS; returns who is which. A scenario that cuts DNS starts only once the Secondary's acknowledgements keep the lease.
 */
async function healthyGroup(cluster: TestCluster, what = 'a healthy group', deadlineMs = SETTLE_MS): Promise<{ primary: TestNode; secondary: TestNode }> {
  return waitFor(
    `${what}: one acting Primary, a Secondary with direct heartbeats, both connected to DNS`,
    async () => {
      const [a, b] = await Promise.all([cluster.a.state(), cluster.b.state()]);
      if (a === null || b === null) return undefined;
      const [primary, secondary, p, s] = a.acting_primary === true ? [cluster.a, cluster.b, a, b] : [cluster.b, cluster.a, b, a];
      const healthy =
        p.acting_primary === true &&
        p.heartbeat_method === 'direct' &&
        s.node_role === 'secondary' &&
        s.heartbeat_method === 'direct' &&
        p.node_dns_connection_state === 'connected' &&
        s.node_dns_connection_state === 'connected' &&
        p.epoch === s.epoch;
      return healthy ? { primary, secondary } : undefined;
    },
    deadlineMs,
    20,
  );
}

/** Starts and forms a group for one scenario; if the scenario fails, both nodes' logs are saved and the file named. */
async function formGroup(kind: DnsKind, timers = TIMERS): Promise<TestCluster> {
  const cluster = await startCluster(kind, timers, { form: true });
  onTestFailed(({ task }) => {
    console.error(`both nodes' logs of the failed scenario: ${saveNodeLogs(cluster, `${kind}-${task.name}`)}`);
  });
  return cluster;
}

/** Rules (a) and (b) on the whole record of both nodes; soft, so that a failure lists every broken rule. */
function expectAnnouncementRules(stream: readonly Announcement[], story: string, origin: number): void {
  expect.soft(overlappingTenures(stream, origin), `(a) at no instant may both nodes announce primary\n${story}`).toEqual([]);
  expect.soft(stepDownIssues(stream, origin), `(a) a node that lost its lease says so before its peer acts\n${story}`).toEqual([]);
  expect.soft(chainIssues(stream, origin), `(b) each node's announcements form one consistent chain\n${story}`).toEqual([]);
}

function roleChanges(stream: readonly Announcement[]): string[] {
  return only(stream, 'NODE_ROLE_CHANGED').map((announcement) => `${announcement.node}: ${announcement.event.previous} → ${announcement.event.new}`);
}

/** The first sample of `node` that `bad` flags, as a line for a failure message, or null. */
function firstBadSample(samples: readonly StateSample[], node: string, origin: number, bad: (state: Record<string, any> | null) => boolean): string | null {
  const found = samples.find((sample) => sample.node === node && bad(sample.state));
  if (found === undefined) return null;
  const { state } = found;
  return `${node} at +${(found.at - origin).toFixed(3)} ms: ${state === null ? 'no answer' : JSON.stringify({ node_role: state.node_role, acting_primary: state.acting_primary, epoch: state.epoch, state: state.state, dns: state.node_dns_connection_state })}`;
}

function describeFor(kind: DnsKind, skipReason: string | null) {
  describe.skipIf(skipReason !== null)(`what a group announces, over the ${kind} DNS server${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let cluster: TestCluster | null = null;
    afterEach(async () => {
      await cluster?.stop();
      cluster = null;
    });

    it.each(['primary', 'secondary'] as const)(
      'a manual failover asked of the %s: exactly one takeover, the roles swap, the 200 comes once the new Primary acts, the epoch rises by one',
      async (askedOf) => {
        cluster = await formGroup(kind);
        const { primary, secondary } = await healthyGroup(cluster);
        const before = await groupNow(cluster);
        const epoch = before.states[primary.id]!.epoch as number;
        const asked = askedOf === 'primary' ? primary : secondary;

        const origin = machineMonotonicMs();
        const answer = await asked.api('PUT', '/ag/api/v1/failover');
        const answeredAt = machineMonotonicMs();
        const newPrimaryRightAfter = await secondary.state();
        const settled = await healthyGroup(cluster, 'the group after the failover');

        const stream = mergedAnnouncements([cluster.a, cluster.b]);
        const story = timeline(stream, origin, [
          { at: origin, what: `PUT /failover sent to ${asked.id}` },
          { at: answeredAt, what: `answer ${answer.status} received` },
        ]);
        const window = stream.filter((announcement) => announcement.mono >= origin);
        expect.soft(answer, story).toMatchObject({ status: 200 });
        expect.soft(settled.primary.id, `the roles swap\n${story}`).toBe(secondary.id);
        expect.soft(newPrimaryRightAfter?.acting_primary, `GET /state of the new Primary (${secondary.id}) right after the 200 says it acts\n${story}`).toBe(true);
        const becamePrimary = only(window, 'NODE_ROLE_CHANGED', (announcement) => announcement.node === secondary.id && announcement.event.new === 'primary')[0];
        expect.soft(becamePrimary !== undefined && becamePrimary.mono <= answeredAt, `the new Primary announced primary before the 200 arrived\n${story}`).toBe(true);
        expect
          .soft(only(window, 'TAKEOVER_STARTED').map((announcement) => `${announcement.node} epoch ${announcement.event.epoch}`), `exactly one takeover, by ${secondary.id}\n${story}`)
          .toEqual([`${secondary.id} epoch ${epoch + 1}`]);
        expect.soft(only(window, 'TAKEOVER_ABANDONED'), `no takeover abandoned\n${story}`).toEqual([]);
        expect.soft(roleChanges(window).sort(), `one role change each, no more\n${story}`).toEqual([`${primary.id}: primary → secondary`, `${secondary.id}: secondary → primary`].sort());
        const after = await groupNow(cluster);
        expect.soft([after.states.a?.epoch, after.states.b?.epoch, after.records.heartbeat?.epoch], `the epoch rose by one, on both nodes and in TXT\n${story}`).toEqual([epoch + 1, epoch + 1, epoch + 1]);
        expect.soft(after.records.address, `the A record names the new Primary\n${story}`).toBe(secondary.address);
        expectAnnouncementRules(stream, story, origin);
        expect.soft(await settledFinalStateIssues(cluster, SETTLE_MS), `the last announcements match GET /state and DNS\n${story}`).toEqual([]);
      },
    );

    it.each([
      { cut: 'out', what: 'everything the Secondary says is lost (the answer to the probe before the handover too)' },
      { cut: 'out handover', what: 'only the Secondary\'s answer to the handover itself is lost' },
    ] as const)('a handover whose answer is lost, the Secondary\'s way back cut ($cut: $what): never two primaries, one acting Primary at the end, and the answer says what happened', async ({ cut }) => {
      cluster = await formGroup(kind);
      const { primary, secondary } = await healthyGroup(cluster);
      const epoch = (await primary.state())!.epoch as number;
      // b → a: what the Secondary says (answers, its own messages) is lost; what the Primary sends still arrives.
      await cluster.cutPeerPath({ [secondary.id]: cut });
      const origin = machineMonotonicMs();
      let answer: { status: number; body: any };
      let answeredAt: number;
      let settledWhileCut: { primary: TestNode; rightAfter: Record<string, any> | null };
      try {
        answer = await primary.api('PUT', '/ag/api/v1/failover');
        answeredAt = machineMonotonicMs();
        const rightAfter = await secondary.state();
        // Still cut: the group must come to exactly one acting Primary that DNS names, whoever it is.
        const acting = await waitFor(
          'exactly one acting Primary, named by DNS, while the way back is cut',
          async () => {
            const now = await groupNow(cluster!);
            const actingNodes = [cluster!.a, cluster!.b].filter((node) => now.states[node.id]?.acting_primary === true);
            const other = actingNodes.length === 1 ? [cluster!.a, cluster!.b].find((node) => node !== actingNodes[0])! : null;
            return actingNodes.length === 1 && other !== null && now.states[other.id]?.node_role === 'secondary' && now.records.address === actingNodes[0]!.address ? actingNodes[0] : undefined;
          },
          SETTLE_MS,
          20,
        );
        settledWhileCut = { primary: acting, rightAfter };
      } finally {
        await cluster.healPeerPath();
      }
      const healedAt = machineMonotonicMs();
      const healed = await healthyGroup(cluster, 'the group once the path is healed');

      const stream = mergedAnnouncements([cluster.a, cluster.b]);
      const story = timeline(stream, origin, [
        { at: origin, what: `${secondary.id}'s way back cut (${cut}); PUT /failover sent to ${primary.id}` },
        { at: answeredAt, what: `answer ${answer.status}: ${JSON.stringify(answer.body)}` },
        { at: healedAt, what: 'path healed' },
      ]);
      const tookOver = settledWhileCut.primary === secondary;
      console.info(`[${kind}, ${cut}] handover with the answer lost: ${tookOver ? `${secondary.id} took over` : `${primary.id} stayed Primary`}, the failover answered ${answer.status} ${JSON.stringify(answer.body)}\n${story}`);
      if (answer.status === 200) {
        expect.soft(tookOver, `the failover answered 200, so ${secondary.id} must be the Primary\n${story}`).toBe(true);
        expect.soft(settledWhileCut.rightAfter?.acting_primary, `GET /state of ${secondary.id} right after the 200 says it acts\n${story}`).toBe(true);
      } else {
        expect.soft(tookOver, `the failover answered ${answer.status}, yet ${secondary.id} took over\n${story}`).toBe(false);
        expect.soft(answer.status, story).toBe(503);
        expect.soft(typeof answer.body?.message === 'string' && answer.body.message.length > 0, `the failure says why\n${story}`).toBe(true);
      }
      expect.soft(healed.primary, `healing the path changes no role\n${story}`).toBe(settledWhileCut.primary);
      const after = await groupNow(cluster);
      const expectedEpoch = tookOver ? epoch + 1 : epoch;
      // A Primary that re-asserted itself after an unanswered handover may hold a newer epoch; it never goes back.
      expect.soft(after.records.heartbeat?.epoch, `the epoch does not go back\n${story}`).toBeGreaterThanOrEqual(expectedEpoch);
      expectAnnouncementRules(stream, story, origin);
      expect.soft(await settledFinalStateIssues(cluster, SETTLE_MS), `the last announcements match GET /state and DNS\n${story}`).toEqual([]);
    });

    it('the DNS server paused for two failover periods while the direct path works: no role or epoch change, the Primary acts throughout, only the DNS connection state says so', async () => {
      cluster = await formGroup(kind, PAUSE_TIMERS);
      const { primary, secondary } = await healthyGroup(cluster, 'a healthy group', PAUSE_SETTLE_MS);
      const before = await groupNow(cluster);
      const origin = machineMonotonicMs();
      const poller = pollStates([cluster.a, cluster.b], 20);
      let samples: StateSample[] = [];
      let pausedAt = 0;
      let resumedAt = 0;
      let disconnectedSeen: number | null = null;
      try {
        pausedAt = machineMonotonicMs();
        cluster.dns.pause();
        try {
          disconnectedSeen = await waitFor(
            `${primary.id} to say its DNS connection is down, during the pause`,
            async () => ((await primary.state())?.node_dns_connection_state === 'disconnected' ? machineMonotonicMs() : undefined),
            PAUSE_MS,
            20,
          );
        } catch {
          disconnectedSeen = null;
        }
        await sleep(pausedAt + PAUSE_MS - machineMonotonicMs());
      } finally {
        cluster.dns.resume();
        resumedAt = machineMonotonicMs();
      }
      try {
        await primary.waitForState('DNS connected again after the pause', (state) => state.node_dns_connection_state === 'connected', PAUSE_SETTLE_MS);
        await sleep(AFTERMATH_MS);
      } finally {
        samples = await poller.stop();
      }
      const after = await groupNow(cluster);

      const stream = mergedAnnouncements([cluster.a, cluster.b]);
      const story = timeline(stream, origin, [
        { at: pausedAt, what: `DNS server (${kind}) paused` },
        ...(disconnectedSeen === null ? [] : [{ at: disconnectedSeen, what: `GET /state of ${primary.id} says disconnected` }]),
        { at: resumedAt, what: 'DNS server resumed' },
      ]);
      const window = stream.filter((announcement) => announcement.mono >= origin);
      expect.soft(samples.filter((sample) => sample.node === primary.id).length, 'GET /state was polled all along').toBeGreaterThan((PAUSE_MS + AFTERMATH_MS) / 100);
      expect.soft(firstBadSample(samples, primary.id, origin, (state) => state?.acting_primary !== true || state.node_role !== 'primary'), `the Primary acts at every poll\n${story}`).toBeNull();
      expect.soft(firstBadSample(samples, secondary.id, origin, (state) => state === null || state.node_role !== 'secondary' || state.acting_primary !== false), `the Secondary never says primary\n${story}`).toBeNull();
      expect.soft(roleChanges(window), `no role change\n${story}`).toEqual([]);
      expect.soft(only(window, 'LEASE_LOST').map((announcement) => `${announcement.node}: ${announcement.event.reason}`), `no lease lost\n${story}`).toEqual([]);
      expect.soft(window.filter((announcement) => announcement.eventId.startsWith('TAKEOVER_')).map((announcement) => `${announcement.node}: ${announcement.eventId}`), `no takeover\n${story}`).toEqual([]);
      expect
        .soft([after.states.a?.epoch, after.states.b?.epoch, after.records.heartbeat?.epoch, after.records.heartbeat?.holder, after.records.address], `no epoch change\n${story}`)
        .toEqual([before.states.a?.epoch, before.states.b?.epoch, before.records.heartbeat?.epoch, primary.id, primary.address]);
      // Only the DNS connection state says so: down during the pause, up again after it.
      expect.soft(disconnectedSeen, `GET /state of ${primary.id} says disconnected during the pause\n${story}`).not.toBeNull();
      const primaryDns = only(window, 'DNS_CONNECTION_STATE_CHANGED', (announcement) => announcement.node === primary.id);
      expect.soft(primaryDns[0]?.event.new === 'disconnected' && primaryDns[0].mono >= pausedAt && primaryDns[0].mono <= resumedAt, `${primary.id} announces DNS disconnected during the pause\n${story}`).toBe(true);
      expect.soft(primaryDns.at(-1)?.event.new === 'connected' && primaryDns.at(-1)!.mono >= resumedAt, `${primary.id} announces DNS connected after the pause\n${story}`).toBe(true);
      expectAnnouncementRules(stream, story, origin);
      expect.soft(await settledFinalStateIssues(cluster, PAUSE_SETTLE_MS), `the last announcements match GET /state and DNS\n${story}`).toEqual([]);
    });
  });
}

describeFor('embedded', null);
describeFor('bind', bindMissing);
