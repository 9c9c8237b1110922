/**
 * `agctl` child processes, for the process demo, the integration tests and the benchmarks: spawn one, read its
 * JSON log lines, wait on a condition with a deadline, signal it, and make sure it is gone when the parent exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How to run `agctl` from here: `[executable, ...arguments before the subcommand]`. */
export interface AgctlInvocation {
  readonly command: string;
  readonly args: readonly string[];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The way to start `agctl` as a child: the compiled entry when this module runs compiled, or when the build is
 * newer than every source file (tests then start lean processes); otherwise the TypeScript entry through tsx.
 *
 * @example
 * const { command, args } = agctlInvocation();
 * spawn(command, [...args, 'start', '--config', file]);
 */
export function agctlInvocation(): AgctlInvocation {
  const here = dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith('.js')) return { command: process.execPath, args: [join(here, 'agctl.js')] };
  const root = join(here, '..', '..');
  const built = join(root, 'dist', 'src', 'cli', 'agctl.js');
  if (existsSync(built)) {
    const builtAt = statSync(built).mtimeMs;
    if (newestMtime(join(root, 'src')) <= builtAt && newestMtime(join(root, 'machines')) <= builtAt) {
      return { command: process.execPath, args: [built] };
    }
  }
  return { command: process.execPath, args: ['--import', 'tsx', join(here, 'agctl.ts')] };
}

/** Every child spawned here and still running: killed when this process exits, however it exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Polls `condition` every `intervalMs` until it returns a value other than undefined/false; rejects after `deadlineMs` with `what` in the message. */
export async function waitFor<T>(what: string, condition: () => T | undefined | false | Promise<T | undefined | false>, deadlineMs: number, intervalMs = 10): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (performance.now() >= deadline) throw new Error(`Timed out after ${deadlineMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** How long an exited process's pipes may take to drain before its exit is reported anyway. */
const PIPE_DRAIN_MS = 2_000;

/**
 * One running `agctl` subcommand. Its stdout is read as JSON log lines (other lines are kept as `{ msg: line }`);
 * stderr is kept as text.
 *
 * @example
 * const node = AgctlProcess.spawn('a', ['start', '--config', 'a.json']);
 * await node.waitForLog((line) => line.msg === 'node listening', 10_000);
 * await node.kill('SIGKILL');
 */
export class AgctlProcess {
  readonly logs: Record<string, unknown>[] = [];
  #stderr = '';
  readonly #child: ChildProcess;
  readonly #exit: Promise<number | null>;
  #exitCode: number | null | undefined = undefined;
  readonly #listeners = new Set<() => void>();

  private constructor(
    readonly name: string,
    child: ChildProcess,
  ) {
    this.#child = child;
    running.add(child);
    this.#exit = new Promise((resolve) => {
      // 'exit' can come before the last lines of stdout and stderr are read; 'close' comes once both pipes are
      // drained. A grandchild that inherited the pipes could hold them open, so 'close' is awaited for a bounded time.
      const closed = new Promise<void>((resolveClosed) => child.once('close', () => resolveClosed()));
      child.once('exit', (code, signal) => {
        running.delete(child);
        let timer: NodeJS.Timeout | undefined;
        const drained = new Promise<void>((resolveDrained) => (timer = setTimeout(resolveDrained, PIPE_DRAIN_MS)));
        void Promise.race([closed, drained]).then(() => {
          clearTimeout(timer);
          this.#exitCode = code ?? (signal === null ? null : -1);
          this.#notify();
          resolve(this.#exitCode);
        });
      });
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.logs.push(parseLine(line));
      this.#notify();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
  }

  /** Starts `agctl <args>` with `env` added to this process's environment. */
  static spawn(name: string, args: readonly string[], env: Record<string, string> = {}): AgctlProcess {
    installExitHook();
    const { command, args: prefix } = agctlInvocation();
    const child = spawn(command, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AG_LOG_LEVEL: 'info', ...env } });
    return new AgctlProcess(name, child);
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The exit code once exited (-1 when killed by a signal), undefined while running. */
  get exitCode(): number | null | undefined {
    return this.#exitCode;
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Calls `callback` with every log line from now on; returns a function that stops it. */
  onLog(callback: (line: Record<string, unknown>) => void): () => void {
    let seen = this.logs.length;
    const listener = () => {
      for (; seen < this.logs.length; seen++) callback(this.logs[seen]!);
    };
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first log line `match` accepts (already logged or later); rejects at the deadline or if the process exits first. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, deadlineMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < this.logs.length; seen++) {
          if (match(this.logs[seen]!)) return finish(() => resolve(this.logs[seen]!));
        }
        if (this.#exitCode !== undefined) finish(() => reject(new Error(`${this.name} exited (${this.#exitCode}) before the expected log line.\n${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.name}: no matching log line within ${deadlineMs} ms.\n${this.describe()}`))), deadlineMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Sends `signal`; with SIGKILL/SIGTERM/SIGINT resolves once the process exited (with its code). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null | undefined> {
    if (this.#exitCode !== undefined) return this.#exitCode;
    this.#child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return undefined;
    return this.#exit;
  }

  /** Resolves with the exit code when the process exits. */
  exited(): Promise<number | null> {
    return this.#exit;
  }

  /** The last log lines and stderr, for failure messages. */
  describe(lines = 15): string {
    return [...this.logs.slice(-lines).map((line) => JSON.stringify(line)), this.#stderr.trim()].filter(Boolean).join('\n');
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: keep it as text
  }
  return { msg: line };
}

/**
 * A TCP port free on every one of `hosts` right now, from `range` when given (tests use 18000-18999), else any.
 * Also checks UDP, so the port suits a DNS server too.
 */
export async function freePort(hosts: readonly string[] = ['127.0.0.1'], range?: { from: number; to: number }): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const candidate = range === undefined ? 0 : range.from + Math.floor(Math.random() * (range.to - range.from + 1));
    const port = await tryListen(hosts[0]!, candidate);
    if (port === null) continue;
    let free = true;
    for (const host of hosts.slice(1)) if ((await tryListen(host, port)) === null) free = false;
    if (free && (await udpFree(hosts[0]!, port))) return port;
  }
  throw new Error(`No free port found on ${hosts.join(', ')}.`);
}

function tryListen(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : null));
    });
  });
}

async function udpFree(host: string, port: number): Promise<boolean> {
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}
