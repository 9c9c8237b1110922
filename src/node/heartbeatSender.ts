import { fromCallback } from 'xstate';
import type {
  DirectHeartbeatSent,
  HeartbeatOutcomeEvent,
  HeartbeatWritten,
  RecordsRead,
  SendHeartbeatCommand,
} from '../../machines/nodeMachine.types.js';
import { hasErrorCode } from '../api/errors.js';
import { DnsPrerequisiteFailedError } from '../dns/errors.js';

/** The two paths of a heartbeat, as the node's I/O actors implement them over its ports. */
export interface HeartbeatPaths {
  /** Sends the heartbeat straight to the Secondary; resolves with its acknowledgement. */
  sendDirect(command: SendHeartbeatCommand): Promise<DirectHeartbeatSent>;
  /** Writes the heartbeat as the TXT record, a compare-and-swap on `command.expectedTxt` (rule 4). */
  writeRecord(command: SendHeartbeatCommand): Promise<HeartbeatWritten>;
  /** Reads the group's records afresh: what a contested write is judged by (rule 4). */
  readRecords(): Promise<RecordsRead>;
}

/**
 * How many direct heartbeats may be under way at once: as many as a peer exchange's timeout (at least 100 ms) spans
 * at a 50 ms heartbeat interval, and few enough that a peer that does not answer gathers no queue.
 */
export const DIRECT_SENDS_IN_FLIGHT = 3;

/**
 * The Primary's heartbeat I/O as one long-lived actor (the machine invokes it while Primary as `heartbeatSender`).
 * Each `SEND_HEARTBEAT` it is told goes out on both paths, and each path's outcome comes back as one event:
 * `DIRECT_HEARTBEAT_ACKED` or `DIRECT_HEARTBEAT_FAILED`; `DNS_HEARTBEAT_WRITTEN`, `DNS_HEARTBEAT_CONTESTED` (the
 * write failed its prerequisite: the records as read right after it) or `DNS_HEARTBEAT_FAILED`. It decides nothing:
 * the machine's rules judge every outcome. On the DNS path one send at a time: a heartbeat due while the previous
 * write is still under way is not written (the next TXT write must expect the value the previous one left). On the
 * direct path up to {@link DIRECT_SENDS_IN_FLIGHT} at a time: each direct heartbeat is judged on its own `(epoch, seq)`
 * by the Secondary and the lease counts only the confirmation of a newer send, so a slow round trip need not hold
 * back the next heartbeat (skipping it doubled the gap between confirmations whenever one round trip took longer
 * than the heartbeat interval, and cost the lease on a busy machine). Stopped with the Primary state, it reports
 * nothing more.
 *
 * @example
 * const machine = nodeMachine.provide({ actors: { heartbeatSender: heartbeatSender(paths) } });
 */
export function heartbeatSender(paths: HeartbeatPaths) {
  return fromCallback<SendHeartbeatCommand, void>(({ sendBack, receive }) => {
    let stopped = false;
    // An outcome that settles after the Primary state ended belongs to no one: the machine has moved on.
    const report = (event: HeartbeatOutcomeEvent) => {
      if (!stopped) sendBack(event);
    };
    let directInFlight = 0;
    let dnsBusy = false;
    receive((command) => {
      if (directInFlight < DIRECT_SENDS_IN_FLIGHT) {
        directInFlight += 1;
        paths.sendDirect(command).then(
          (acked) => {
            directInFlight -= 1;
            report({ type: 'DIRECT_HEARTBEAT_ACKED', ...acked });
          },
          (error: unknown) => {
            directInFlight -= 1;
            report({ type: 'DIRECT_HEARTBEAT_FAILED', error });
          },
        );
      }
      if (!dnsBusy) {
        dnsBusy = true;
        writeAndVerify(paths, command).then((outcome) => {
          dnsBusy = false;
          report(outcome);
        });
      }
    });
    return () => {
      stopped = true;
    };
  });
}

/** The DNS path of one heartbeat: the compare-and-swap, and when its prerequisite fails, the read that judges it. */
async function writeAndVerify(paths: HeartbeatPaths, command: SendHeartbeatCommand): Promise<HeartbeatOutcomeEvent> {
  try {
    return { type: 'DNS_HEARTBEAT_WRITTEN', ...(await paths.writeRecord(command)) };
  } catch (error) {
    if (!hasErrorCode(error, DnsPrerequisiteFailedError.code)) return { type: 'DNS_HEARTBEAT_FAILED', error };
  }
  try {
    return { type: 'DNS_HEARTBEAT_CONTESTED', ...(await paths.readRecords()) };
  } catch (error) {
    return { type: 'DNS_HEARTBEAT_FAILED', error };
  }
}
