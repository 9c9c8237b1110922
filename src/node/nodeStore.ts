import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PersistedStateError, SettingsError, type SettingsIssue } from '../api/errors.js';
import { isValidNodeId } from '../dns/heartbeatRecord.js';
import type { MemberAddress } from '../peer/peerMessages.js';
import type { MaintenanceFlag } from '../../machines/maintenance.js';
import { lazySchema } from './lazyZod.js';
import { loadSettings, type SettingsRecord } from './settings.js';

/** What a node keeps across restarts: its settings and its membership. */
export interface PersistedNode {
  readonly settings: SettingsRecord;
  readonly membership: {
    readonly inGroup: boolean;
    /** The other member, when known; with more than two members, the first of {@link members}. */
    readonly peer: MemberAddress | null;
    /** Every other member, written when there are more than one (absent in older files and two-member groups: `peer`). */
    readonly members?: readonly MemberAddress[];
    /** The highest epoch this node has known, so that epochs never go back. */
    readonly epoch: number;
    /** The group's maintenance flag as this node knew it (docs/design.md rule 9); absent in older files: none. */
    readonly maintenance?: MaintenanceFlag;
  };
}

/**
 * The shape of `node.json`. `settings` is checked by `loadSettings` as a whole (fields, ranges, the timer rules), so
 * here it only has to be an object. Built (and zod loaded) on first use.
 */
const persistedNodeSchema = lazySchema((z) => {
  const count = z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }).max(Number.MAX_SAFE_INTEGER, { error: 'must be at most 2^53 - 1' });

  const memberSchema = z
    .object({
      nodeId: z.string({ error: 'must be a node id' }).refine(isValidNodeId, { error: 'must be 1 to 63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit' }),
      address: z.ipv4({ error: 'must be an IPv4 address' }),
      port: z.number({ error: 'must be a port number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be from 1 to 65535' }).max(65535, { error: 'must be from 1 to 65535' }),
      scheme: z.enum(['http', 'https'], { error: 'must be "http" or "https"' }),
      priority: z.number({ error: 'must be a whole number from 0 to 1000' }).int({ error: 'must be a whole number from 0 to 1000' }).min(0, { error: 'must be from 0 to 1000' }).max(1000, { error: 'must be from 0 to 1000' }).optional(),
    })
    .strict();

  return z
    .object(
      {
        settings: z.record(z.string(), z.unknown(), { error: 'must be an object of settings' }),
        membership: z
          .object(
            {
              inGroup: z.boolean({ error: 'must be true or false' }),
              peer: memberSchema.nullable(),
              members: z.array(memberSchema, { error: 'must be an array of members' }).max(6, { error: 'must list at most 6 other members' }).optional(),
              epoch: count,
              maintenance: z
                .object(
                  {
                    enabled: z.boolean({ error: 'must be true or false' }),
                    version: count,
                    by: z.string({ error: 'must be a node id' }).refine(isValidNodeId, { error: 'must be a node id' }).nullable(),
                  },
                  { error: 'must be an object with enabled, version and by' },
                )
                .strict()
                .optional(),
            },
            { error: 'must be an object with inGroup, peer and epoch' },
          )
          .strict(),
      },
      { error: 'must be a JSON object with settings and membership' },
    )
    .strict();
});

/**
 * Reads the text of a `node.json` into its record, checked like a config file: JSON, the schema (unknown fields
 * refused), the settings by `loadSettings`. Throws `PersistedStateError` naming `file`, each field and its rule.
 *
 * @example
 * parsePersistedNode('{"membership":{"inGroup":true,"peer":null,"epoch":"x"},"settings":{...}}', 'node.json')
 * // throws: The state file node.json is refused: membership.epoch: must be a number
 */
export function parsePersistedNode(text: string, file: string): PersistedNode {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PersistedStateError(file, [{ field: '(file)', rule: `must be JSON (${(error as Error).message})` }], { cause: error });
  }
  const parsed = persistedNodeSchema().safeParse(json);
  if (!parsed.success) {
    throw new PersistedStateError(
      file,
      parsed.error.issues.flatMap((issue): SettingsIssue[] =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), rule: 'is not a known field' }))
          : [{ field: issue.path.length > 0 ? issue.path.join('.') : '(file)', rule: issue.message }],
      ),
    );
  }
  try {
    loadSettings(parsed.data.settings);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    throw new PersistedStateError(file, error.issues.map((issue) => ({ field: `settings.${issue.field}`, rule: issue.rule })));
  }
  return parsed.data as unknown as PersistedNode;
}

/**
 * The other members a persisted membership names: `members`, or in older files and two-member groups, `peer`.
 *
 * @example
 * persistedMembers({ inGroup: true, peer: b, epoch: 3 }); // [b]
 */
export function persistedMembers(membership: PersistedNode['membership']): readonly MemberAddress[] {
  return membership.members ?? (membership.peer === null ? [] : [membership.peer]);
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

  /**
   * Prepares `dataDir` for a node and checks what it holds, before anything starts: creates it (mode 0700) if
   * missing, and makes sure it is a directory this process can write (a probe file is written and removed) and that
   * a `node.json` in it is valid. Throws `SettingsError` naming `data_dir` and the rule, or `PersistedStateError`
   * naming the file, the field and the rule.
   *
   * @example
   * const store = await FileNodeStore.open('/var/lib/agnode'); // refuses a regular file, an unwritable directory
   */
  static async open(dataDir: string): Promise<FileNodeStore> {
    const refuse = (rule: string, cause?: unknown): never => {
      throw Object.assign(new SettingsError([{ field: 'data_dir', rule }]), cause === undefined ? {} : { cause });
    };
    const kind = await stat(dataDir).then(
      (found) => (found.isDirectory() ? 'directory' : 'other'),
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'missing' : refuse(`must be a directory this node can write: ${dataDir} cannot be read (${error.code ?? error.message})`, error)),
    );
    if (kind === 'other') refuse(`must be a directory: ${dataDir} exists and is not one`);
    if (kind === 'missing') {
      await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) =>
        refuse(`must be a directory this node can create: ${dataDir} cannot be created (${error.code ?? error.message})`, error),
      );
    }
    const probe = join(dataDir, `.node.json.${process.pid}.probe`);
    try {
      const handle = await open(probe, 'w', 0o600);
      await handle.close();
      await unlink(probe);
    } catch (error) {
      refuse(`must be a directory this node can write: ${dataDir} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error);
    }
    const store = new FileNodeStore(dataDir);
    await store.load();
    return store;
  }

  /**
   * The persisted record, or null when there is none yet (a first start). Throws `PersistedStateError` naming the
   * file, each field and its rule when the file cannot be read, is not JSON, or breaks the record's schema (the
   * settings in it are checked as a config file is).
   */
  async load(): Promise<PersistedNode | null> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw new PersistedStateError(this.#file, [{ field: '(file)', rule: `must be a readable file (${code ?? (error as Error).message})` }], { cause: error });
    }
    return parsePersistedNode(text, this.#file);
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
