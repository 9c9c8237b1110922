/**
 * A node process on this machine for the process demo and the benchmarks: its config file (written here), its
 * `agctl start` child, and its state read over its API.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgctlProcess } from './agctlProcess.js';

/** The fields of `GET /ag/api/v1/state` the demo and the benchmarks look at. */
export interface LocalNodeState {
  readonly node_role: string;
  readonly node_dns_connection_state: string;
  readonly heartbeat_method: string | null;
  readonly epoch: number;
  readonly acting_primary: boolean;
  readonly state: string;
}

/** Starts an `agctl` child (the caller's, so that it can stop every child however it ends). */
export type SpawnAgctl = (name: string, args: readonly string[]) => AgctlProcess;

/**
 * One node: `node_id` `id` on `address:port`, its config `<dir>/<id>.json` and data dir `<dir>/<id>`.
 *
 * @example
 * const a = await LocalNode.create({ id: 'a', address: '127.0.0.2', port, dir, token, settings });
 * await a.start(['--create-group']);
 * (await a.state())?.acting_primary; // true once it acts as Primary
 */
export class LocalNode {
  /** The running (or last) `agctl start` child; null before the first start. */
  process: AgctlProcess | null = null;

  private constructor(
    readonly id: string,
    readonly address: string,
    readonly port: number,
    readonly configFile: string,
    readonly token: string,
  ) {}

  /** Writes the node's config (`settings` plus its id, address, port, token and data dir; mode 0600). */
  static async create(options: { id: string; address: string; port: number; dir: string; token: string; settings: Readonly<Record<string, unknown>> }): Promise<LocalNode> {
    const { id, address, port, dir, token } = options;
    const configFile = join(dir, `${id}.json`);
    const config = { node_id: id, external_ipv4_address: address, external_port: port, api_token: token, data_dir: join(dir, id), ...options.settings };
    await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    return new LocalNode(id, address, port, configFile, token);
  }

  /** Starts `agctl start --config <file> <flags>` through `spawn` and resolves once it listens. */
  async start(flags: readonly string[], spawn: SpawnAgctl = AgctlProcess.spawn): Promise<AgctlProcess> {
    const child = spawn(this.id, ['start', '--config', this.configFile, ...flags]);
    this.process = child;
    await child.waitForLog((line) => line.msg === 'node listening', 20_000);
    return child;
  }

  /** Whether the node's process runs now. */
  get running(): boolean {
    return this.process !== null && this.process.exitCode === undefined;
  }

  /** The node's state, or null when it does not run or answer within 500 ms. */
  async state(): Promise<LocalNodeState | null> {
    if (!this.running) return null;
    try {
      const response = await fetch(`http://${this.address}:${this.port}/ag/api/v1/state`, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(500) });
      return response.ok ? ((await response.json()) as LocalNodeState) : null;
    } catch {
      return null;
    }
  }
}

/**
 * Whether `state` is a Secondary receiving direct heartbeats in epoch `minEpoch` or later.
 *
 * @example
 * await waitFor('b to follow', async () => followsPrimary(await b.state(), 2), 20_000);
 */
export function followsPrimary(state: LocalNodeState | null, minEpoch = 0): boolean {
  return state?.node_role === 'secondary' && state.heartbeat_method === 'direct' && state.epoch >= minEpoch;
}
