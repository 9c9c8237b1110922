import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { MemberAddress } from '../peer/peerMessages.js';
import type { SettingsRecord } from './settings.js';

/** What a node keeps across restarts: its settings and its membership. */
export interface PersistedNode {
  readonly settings: SettingsRecord;
  readonly membership: {
    readonly inGroup: boolean;
    /** The other member, when known. */
    readonly peer: MemberAddress | null;
    /** The highest epoch this node has known, so that epochs never go back. */
    readonly epoch: number;
  };
}

/**
 * The persistence port. `save` replaces the whole record atomically: after a crash, `load` returns either the old
 * or the new record, never a mix.
 */
export interface NodeStore {
  load(): Promise<PersistedNode | null>;
  save(state: PersistedNode): Promise<void>;
}

/**
 * A store in memory: survives a node's stop and start within one process (the simulator restarts nodes with it).
 *
 * @example
 * const store = new InMemoryNodeStore();
 * const node = createNode(settings, { ...inMemoryPorts(), store });
 */
export class InMemoryNodeStore implements NodeStore {
  #state: PersistedNode | null = null;
  async load(): Promise<PersistedNode | null> {
    return this.#state === null ? null : structuredClone(this.#state);
  }
  async save(state: PersistedNode): Promise<void> {
    this.#state = structuredClone(state);
  }
}

/**
 * A store in `dataDir/node.json`, written atomically: a temporary file is written and flushed, then renamed over
 * the old one.
 *
 * @example
 * const node = createNode(settings, { peer, store: new FileNodeStore('/var/lib/agnode') });
 */
export class FileNodeStore implements NodeStore {
  readonly #file: string;
  readonly #dir: string;
  #writes: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.#dir = dataDir;
    this.#file = join(dataDir, 'node.json');
  }

  async load(): Promise<PersistedNode | null> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return JSON.parse(text) as PersistedNode;
  }

  /** Saves are serialized: the last call's record is the one on disk. */
  save(state: PersistedNode): Promise<void> {
    const write = this.#writes.then(() => this.#write(state));
    this.#writes = write.catch(() => undefined);
    return write;
  }

  async #write(state: PersistedNode): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.#file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.#file);
  }
}
