/**
 * A throwaway BIND 9 for tests and benchmarks: `named -g` in a fresh temp directory, on 127.0.0.1 and a free high
 * port, authoritative for one zone that accepts updates signed with the given keys. Ready when it answers a query.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TsigKey } from '../../src/dns/tsig.js';
import { buildQueryMessage } from '../../src/dns/updateMessage.js';
import { RRType, decodeMessage } from '../../src/dns/wireFormat.js';

/** The path of `named`, or null when BIND is not installed. `AG_NAMED` names another binary (or a missing one). */
export function findNamed(): string | null {
  const configured = process.env.AG_NAMED;
  if (configured !== undefined) return existsSync(configured) ? configured : null;
  for (const candidate of ['/usr/sbin/named', '/usr/local/sbin/named']) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', 'command -v named'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : null;
}

/** Why the BIND half cannot run here, or null when it can. */
export function bindUnavailableReason(): string | null {
  return findNamed() === null ? 'BIND 9 (named) is not installed: apt-get install bind9 bind9-dnsutils' : null;
}

export interface BindServer {
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  readonly dir: string;
  /** Everything named wrote to stderr (it logs there with -g), for failure messages. */
  log(): string;
  /** Freezes named (SIGSTOP): it answers nothing until {@link resume}; the kernel still queues what arrives. */
  pause(): void;
  /** Lets a paused named run again (SIGCONT). */
  resume(): void;
  /** Stops named (resuming it first if paused). */
  stop(): Promise<void>;
}

export interface BindOptions {
  readonly zone: string;
  readonly keys: readonly TsigKey[];
  readonly host?: string;
  /** How long to wait for the first answer. */
  readonly startTimeoutMs?: number;
}

/**
 * A port free for both TCP and UDP on `host` right now, chosen below Linux's ephemeral range (32768-60999) so that
 * no outgoing socket of another process can take it between this check and the server binding it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (!tcpFree) continue;
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

function namedConf(dir: string, host: string, port: number, zone: string, keys: readonly TsigKey[]): string {
  const keyBlocks = keys.map((key) => `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };`).join('\n');
  const allowed = keys.map((key) => `key "${key.name}";`).join(' ');
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { ${host}; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
};
controls { };
${keyBlocks}
zone "${zone}" {
  type primary;
  file "${dir}/${zone}.zone";
  allow-update { ${allowed} };
};
`;
}

function zoneFile(zone: string, host: string): string {
  return `$TTL 60
@ IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 60
@ IN NS ns.${zone}.
ns IN A ${host}
`;
}

/** Whether something answers an SOA query for `zone` at host:port within `timeoutMs`. */
async function answers(host: string, port: number, zone: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    socket.on('error', () => done(false));
    socket.on('message', (bytes) => {
      try {
        const message = decodeMessage(bytes);
        done(message.id === 4242 && message.rcode === 0 && message.aa);
      } catch {
        /* not an answer yet */
      }
    });
    socket.send(buildQueryMessage({ id: 4242, name: zone, type: RRType.SOA }), port, host);
  });
}

/**
 * Starts BIND and resolves once it answers an SOA query for the zone. Rejects (with named's log) if it exits or
 * does not answer before the deadline.
 *
 * @example
 * const bind = await startBind({ zone: 'example.test', keys: [key] });
 * afterAll(() => bind.stop());
 */
export async function startBind(options: BindOptions): Promise<BindServer> {
  const named = findNamed();
  if (named === null) throw new Error(bindUnavailableReason() ?? 'named missing');
  const host = options.host ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'ag-bind-'));
  const port = await freePort(host);
  await writeFile(join(dir, 'named.conf'), namedConf(dir, host, port, options.zone, options.keys));
  await writeFile(join(dir, `${options.zone}.zone`), zoneFile(options.zone, host));
  let stderr = '';
  const child: ChildProcess = spawn(named, ['-g', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited) {
      // A stopped process keeps SIGTERM pending until it runs again.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!exited && Date.now() < deadline) {
    if (await answers(host, port, options.zone, 200)) {
      const signal = (name: NodeJS.Signals) => {
        if (!exited) child.kill(name);
      };
      return { host, port, zone: options.zone, dir, log: () => stderr, pause: () => signal('SIGSTOP'), resume: () => signal('SIGCONT'), stop };
    }
  }
  await stop();
  throw new Error(`BIND did not answer on ${host}:${port} before the deadline${exited ? ' (named exited)' : ''}:\n${stderr}`);
}
