import { spawn } from 'node:child_process';
import type { Logger } from './logger.js';
import { EventId, type NodeRole } from '../api/constants.js';
import type { NodeRoleChanged } from '../api/events.js';
import type { Subscriber } from './subscriptions.js';

/** How one run of a role-change hook ended: exit status 0, another status (or it could not start), or killed at its timeout. */
export type RoleChangeHookResult = 'success' | 'failure' | 'timeout';

/** Every result a hook run is counted under; `dropped`: a change never run because the queue was full. */
const ROLE_CHANGE_HOOK_RESULTS = ['success', 'failure', 'timeout', 'dropped'] as const;

/** The role change a hook is run for: what it gets as arguments and in its environment. */
export interface RoleChangeHookInput {
  readonly role: NodeRole;
  /** `null` on the first notification after the node starts (passed to the hook as `none`). */
  readonly previous: NodeRole | null;
  readonly epoch: number;
  /** The group FQDN at the change (`''` when the node has none). */
  readonly group: string;
}

/** One finished run of a role-change hook. */
export interface RoleChangeHookRun {
  readonly input: RoleChangeHookInput;
  readonly result: RoleChangeHookResult;
  /** The exit status; null when the process was ended by a signal or never started. */
  readonly exitCode: number | null;
  /** The signal that ended it, e.g. `SIGTERM` after its timeout; null otherwise. */
  readonly signal: string | null;
  /** Why it could not start (`spawn ... ENOENT`); null when it started. */
  readonly error: string | null;
  /** Milliseconds from start to exit (monotonic). */
  readonly durationMs: number;
  /** The first `maxOutputBytes` of its stdout and stderr (a note says how much more there was). */
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link RoleChangeHooks}. */
export interface RoleChangeHooksOptions {
  /** The command and its arguments (`on_role_change`); the change's four arguments are appended. */
  readonly command: readonly string[];
  /** How long one run may take before its process group is sent SIGTERM (`on_role_change_timeout`, in ms). */
  readonly timeoutMs: number;
  /** This node's id (`AG_NODE_ID`). */
  readonly nodeId: string;
  readonly logger: Logger;
  /** Called after every run (a change dropped from a full queue is only counted and logged). */
  readonly onRun?: (run: RoleChangeHookRun) => void;
  /** Bytes of stdout and of stderr kept per run, for the log (default 4096). */
  readonly maxOutputBytes?: number;
  /** Role changes waiting behind the running hook; beyond it the oldest waiting one is dropped (default 100). */
  readonly maxQueued?: number;
  /** After SIGTERM at the timeout, how long until SIGKILL (default 2000 ms). */
  readonly killGraceMs?: number;
  /** The environment the AG_ variables are added to (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** The default bytes of stdout and of stderr kept per run. */
const DEFAULT_HOOK_OUTPUT_BYTES = 4096;

/**
 * Runs a node's role-change hook (`on_role_change`, as keepalived's `notify` and Patroni's `on_role_change`) on every
 * `NODE_ROLE_CHANGED`: the command without a shell, with four arguments appended — the new role, the previous role
 * (`none` on the first notification after a start), the epoch and the group FQDN — and the same values in
 * `AG_ROLE`, `AG_PREVIOUS_ROLE`, `AG_EPOCH`, `AG_GROUP`, plus `AG_NODE_ID`.
 *
 * Runs are queued and run one at a time, in the order of the changes; the subscriber only queues, so neither the
 * statechart nor other subscribers ever wait for a hook. Each run gets its own process group: at its timeout the
 * group gets SIGTERM, and SIGKILL after a grace. The first bytes of stdout and stderr are logged with the result
 * (info on success, warn otherwise); `counts` holds how many runs ended how (`/metrics`:
 * `ag_hook_runs_total{result}`).
 *
 * @example
 * const hooks = new RoleChangeHooks({ command: ['/usr/local/bin/on-role-change'], timeoutMs: 30_000, nodeId: 'a', logger });
 * hooks.attach(node); // runs: /usr/local/bin/on-role-change primary secondary 2 app.example.test
 * await hooks.close(); // at stop: waits for the runs already queued
 */
export class RoleChangeHooks {
  readonly #options: RoleChangeHooksOptions;
  readonly #queue: RoleChangeHookInput[] = [];
  readonly #counts: Record<(typeof ROLE_CHANGE_HOOK_RESULTS)[number], number> = { success: 0, failure: 0, timeout: 0, dropped: 0 };
  #running = false;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: RoleChangeHooksOptions) {
    if (options.command.length === 0) throw new TypeError('RoleChangeHooks: command must name the program to run.');
    this.#options = options;
  }

  /** How many runs ended how so far (and how many changes were dropped from a full queue). */
  get counts(): Readonly<Record<(typeof ROLE_CHANGE_HOOK_RESULTS)[number], number>> {
    return { ...this.#counts };
  }

  /** Whether a hook runs now or changes wait for one. */
  get busy(): boolean {
    return this.#running || this.#queue.length > 0;
  }

  /**
   * Subscribes to `node`'s `NODE_ROLE_CHANGED` events (the group FQDN is read from `groupFqdn` at each change);
   * returns the unsubscribe function.
   */
  attach(node: { subscribe(eventId: typeof EventId.NODE_ROLE_CHANGED, callback: Subscriber<typeof EventId.NODE_ROLE_CHANGED>): () => void; readonly settings: { readonly groupFqdn: string | undefined } }): () => void {
    return node.subscribe(EventId.NODE_ROLE_CHANGED, (change: NodeRoleChanged) => {
      this.enqueue({ role: change.new, previous: change.previous, epoch: change.epoch, group: node.settings.groupFqdn ?? '' });
    });
  }

  /** Queues one run; returns at once (the run starts on a later turn of the event loop). */
  enqueue(input: RoleChangeHookInput): void {
    if (this.#closed) {
      this.#options.logger.warn({ hook: this.#describe(input) }, 'role-change hook not run: the node is stopping');
      return;
    }
    const limit = this.#options.maxQueued ?? 100;
    if (this.#queue.length >= limit) {
      const dropped = this.#queue.shift()!;
      this.#counts.dropped += 1;
      this.#options.logger.warn({ hook: this.#describe(dropped), queued: limit }, 'role-change hook dropped: too many role changes wait for the running hook');
    }
    this.#queue.push(input);
    if (!this.#running) {
      this.#running = true;
      setImmediate(() => void this.#drain());
    }
  }

  /** Resolves once no hook runs and none waits. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Takes no more changes and resolves once the queued runs are done (each bounded by its timeout). */
  close(): Promise<void> {
    this.#closed = true;
    return this.idle();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const input = this.#queue.shift()!;
      const run = await this.#run(input);
      this.#counts[run.result] += 1;
      this.#report(run);
    }
    this.#running = false;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #report(run: RoleChangeHookRun): void {
    const details = {
      hook: this.#describe(run.input),
      result: run.result,
      exitCode: run.exitCode,
      signal: run.signal,
      durationMs: Math.round(run.durationMs),
      stdout: run.stdout,
      stderr: run.stderr,
      ...(run.error === null ? {} : { error: run.error }),
    };
    const { logger } = this.#options;
    if (run.result === 'success') logger.info(details, 'role-change hook succeeded');
    else if (run.result === 'timeout') logger.warn(details, `role-change hook timed out after ${this.#options.timeoutMs} ms: its process group was killed`);
    else logger.warn(details, 'role-change hook failed');
    try {
      this.#options.onRun?.(run);
    } catch (error) {
      logger.error({ err: error }, 'role-change hook: the onRun callback failed');
    }
  }

  #describe(input: RoleChangeHookInput): Record<string, unknown> {
    return { command: this.#options.command[0], role: input.role, previous: input.previous ?? 'none', epoch: input.epoch, group: input.group };
  }

  /** Runs the hook once for `input`; never rejects. */
  #run(input: RoleChangeHookInput): Promise<RoleChangeHookRun> {
    const { command, timeoutMs, nodeId } = this.#options;
    const maxBytes = this.#options.maxOutputBytes ?? DEFAULT_HOOK_OUTPUT_BYTES;
    const graceMs = this.#options.killGraceMs ?? 2000;
    const previous = input.previous ?? 'none';
    const args = [...command.slice(1), input.role, previous, String(input.epoch), input.group];
    const env = { ...(this.#options.env ?? process.env), AG_ROLE: input.role, AG_PREVIOUS_ROLE: previous, AG_EPOCH: String(input.epoch), AG_GROUP: input.group, AG_NODE_ID: nodeId };
    const startedAt = performance.now();
    const stdout = new BoundedOutput(maxBytes);
    const stderr = new BoundedOutput(maxBytes);
    return new Promise((resolve) => {
      let timedOut = false;
      let finished = false;
      let killTimer: NodeJS.Timeout | null = null;
      const child = spawn(command[0]!, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, shell: false });
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // the group is gone already
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
      const finish = (exitCode: number | null, signal: string | null, error: string | null) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (killTimer !== null) clearTimeout(killTimer);
        // What the hook left behind in its group after a timeout goes too.
        if (timedOut) killGroup('SIGKILL');
        const result: RoleChangeHookResult = timedOut ? 'timeout' : exitCode === 0 && error === null ? 'success' : 'failure';
        resolve({ input, result, exitCode, signal, error, durationMs: performance.now() - startedAt, stdout: stdout.text(), stderr: stderr.text() });
      };
      child.once('error', (error) => {
        // Could not start (ENOENT, EACCES): no 'exit' follows.
        if (child.pid === undefined) finish(null, null, error.message);
      });
      child.once('exit', (code, signal) => {
        // The output may still be in the pipes: wait for them to close, but not for a child the hook left running.
        const closed = new Promise<void>((done) => child.once('close', () => done()));
        const late = new Promise<void>((done) => setTimeout(done, 200).unref());
        void Promise.race([closed, late]).then(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(code, signal, null);
        });
      });
    });
  }
}

/** The first `limit` bytes of a stream, and how many more there were. */
class BoundedOutput {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;
  constructor(readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = this.limit - this.#kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.#chunks.push(part);
      this.#kept += part.length;
    }
    this.#dropped += Math.max(0, chunk.length - Math.max(0, room));
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped === 0 ? text : `${text}… (${this.#dropped} more bytes not kept)`;
  }
}
