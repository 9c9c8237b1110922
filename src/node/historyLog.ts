import { appendFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from './logger.js';
import { lazySchema } from './lazyZod.js';

/**
 * What a history entry records:
 * - `role_changed`: the node's role changed (`previous`, `new`, `reason`);
 * - `takeover`: a takeover ended (`mode`: absence, handover, forced; `outcome`: completed or abandoned; `reason`
 *   when abandoned; `duration_ms` from TAKEOVER_STARTED to the role change or TAKEOVER_ABANDONED);
 * - `failover`: a manual failover asked on this node (`phase`: asked, then ended with `outcome`, `code`, `reason`);
 * - `lease_lost`: this Primary stopped acting (`reason`);
 * - `maintenance_changed`: maintenance switched on or off (`enabled`, `by`);
 * - `hook_failed`: the role-change hook failed or timed out (`result`, `exit_code`, `signal`, `error`, `role`).
 */
export type HistoryKind = 'role_changed' | 'takeover' | 'failover' | 'lease_lost' | 'maintenance_changed' | 'hook_failed';

/**
 * One line of a node's history, as persisted and served (snake_case). `time` is the wall clock at the event (ISO-8601
 * UTC, for display only); `seq` numbers one node's entries in the order they happened, across restarts.
 */
export interface HistoryEntry extends NewHistoryEntry {
  readonly seq: number;
}

/** An entry before the log numbers it. */
export interface NewHistoryEntry {
  readonly time: string;
  readonly node_id: string;
  readonly epoch: number;
  readonly kind: HistoryKind | (string & {});
  readonly [detail: string]: unknown;
}

/** Options of {@link HistoryLog.open}. */
export interface HistoryLogOptions {
  /** Where `history.jsonl` (and its rotated `history.jsonl.1`) live; without one the history is kept in memory only. */
  readonly dataDir?: string | undefined;
  readonly logger: Logger;
  /** Entries per file before it is rotated (default 1000). */
  readonly maxEntries?: number;
  /** Bytes per file before it is rotated (default 1 MiB). */
  readonly maxBytes?: number;
}

/** The history's file name in `data_dir`; the rotated one has `.1` appended. */
export const HISTORY_FILE = 'history.jsonl';
const DEFAULT_HISTORY_MAX_ENTRIES = 1000;
const DEFAULT_HISTORY_MAX_BYTES = 1024 * 1024;

const entrySchema = lazySchema((z) =>
  z
    .object({
      time: z.string().refine((value) => !Number.isNaN(Date.parse(value)), { error: 'must be an ISO-8601 time' }),
      node_id: z.string().min(1),
      epoch: z.number().int().min(0),
      seq: z.number().int().min(0),
      kind: z.string().min(1),
    })
    .loose(),
);

/**
 * Reads one history line: the entry, or why it is not one.
 *
 * @example
 * parseHistoryLine('{"time":"2026-01-01T00:00:00.000+00:00","node_id":"a","epoch":1,"seq":0,"kind":"lease_lost"}')
 */
export function parseHistoryLine(line: string): HistoryEntry | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const parsed = entrySchema().safeParse(json);
  if (!parsed.success) return { error: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(entry)'}: ${issue.message}`).join('; ') };
  return parsed.data as HistoryEntry;
}

/**
 * A node's history: role changes, takeovers, manual failovers, lease losses, maintenance toggles and failed hooks,
 * kept as JSON lines in `data_dir/history.jsonl` and loaded at start, so it survives restarts. Bounded: when the file
 * reaches `maxEntries` entries or `maxBytes` bytes it is renamed to `history.jsonl.1` (replacing the older one), so
 * at most two files are kept. A line that cannot be read (a torn write after a crash, an edit) is skipped with a
 * warning naming the file and line, never a failure. Appends are written in order, one at a time; a write that
 * fails is logged and the entry is kept in memory.
 *
 * @example
 * const history = await HistoryLog.open({ dataDir: '/var/lib/agnode', logger });
 * await history.append({ time: formatWallTime(Date.now()), node_id: 'a', epoch: 2, kind: 'lease_lost', reason: 'lease expired' });
 * history.entries().at(-1)?.seq // 0 on a fresh data_dir
 */
export class HistoryLog {
  readonly #file: string | null;
  readonly #logger: Logger;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  /** The rotated file's entries, then the current file's, oldest first. */
  #entries: HistoryEntry[] = [];
  /** How many of `#entries` come from the rotated file. */
  #rotated = 0;
  /** Lines and bytes in the current file. */
  #currentLines = 0;
  #currentBytes = 0;
  #nextSeq = 0;
  #writes: Promise<void> = Promise.resolve();

  private constructor(options: HistoryLogOptions) {
    this.#file = options.dataDir === undefined ? null : join(options.dataDir, HISTORY_FILE);
    this.#logger = options.logger;
    this.#maxEntries = options.maxEntries ?? DEFAULT_HISTORY_MAX_ENTRIES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_HISTORY_MAX_BYTES;
    if (!(this.#maxEntries >= 1) || !(this.#maxBytes >= 1)) throw new RangeError('HistoryLog: maxEntries and maxBytes must be at least 1.');
  }

  /** Opens the history of `dataDir` (loading both files), or an empty one in memory without a `dataDir`. */
  static async open(options: HistoryLogOptions): Promise<HistoryLog> {
    const log = new HistoryLog(options);
    await log.#load();
    return log;
  }

  /** The file the history is written to; null when kept in memory. */
  get file(): string | null {
    return this.#file;
  }

  /** Every entry kept (both files), oldest first. */
  entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  /** Numbers `entry`, keeps it and writes it; resolves with it once written (or once the write failed and was logged). */
  append(entry: NewHistoryEntry): Promise<HistoryEntry> {
    const numbered: HistoryEntry = { ...entry, seq: this.#nextSeq++ };
    const line = `${JSON.stringify(numbered)}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#currentLines > 0 && (this.#currentLines >= this.#maxEntries || this.#currentBytes + bytes > this.#maxBytes)) this.#rotate();
    this.#entries.push(numbered);
    this.#currentLines += 1;
    this.#currentBytes += bytes;
    if (this.#file === null) return Promise.resolve(numbered);
    const file = this.#file;
    const write = this.#writes.then(() =>
      appendFile(file, line, { mode: 0o600 }).catch((error: unknown) => this.#logger.error({ err: error, file }, 'could not write the history entry; it is kept in memory')),
    );
    this.#writes = write;
    return write.then(() => numbered);
  }

  /** Resolves once every append so far is written. */
  flush(): Promise<void> {
    return this.#writes;
  }

  /** The current file becomes the rotated one (in memory now, on disk in write order). */
  #rotate(): void {
    this.#entries = this.#entries.slice(this.#rotated);
    this.#rotated = this.#entries.length;
    this.#currentLines = 0;
    this.#currentBytes = 0;
    if (this.#file === null) return;
    const file = this.#file;
    this.#writes = this.#writes.then(() =>
      rename(file, `${file}.1`).catch((error: unknown) => this.#logger.error({ err: error, file }, 'could not rotate the history file')),
    );
  }

  async #load(): Promise<void> {
    if (this.#file === null) return;
    await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 }).catch((error: unknown) => this.#logger.warn({ err: error, file: this.#file }, 'could not create the directory of the history file'));
    const older = await this.#readFile(`${this.#file}.1`);
    const current = await this.#readFile(this.#file);
    this.#entries = [...older.entries, ...current.entries];
    this.#rotated = older.entries.length;
    this.#currentLines = current.lines;
    this.#currentBytes = current.bytes;
    this.#nextSeq = this.#entries.reduce((next, entry) => Math.max(next, entry.seq + 1), 0);
    if (current.tornEnd) {
      // A crash mid-write left a line without its newline: end it, so that the next entry starts a line of its own.
      await appendFile(this.#file, '\n').catch((error: unknown) => this.#logger.warn({ err: error, file: this.#file }, 'could not end the torn last line of the history file'));
      this.#currentBytes += 1;
    }
  }

  async #readFile(file: string): Promise<{ entries: HistoryEntry[]; lines: number; bytes: number; tornEnd: boolean }> {
    let text: string;
    try {
      const found = await stat(file);
      if (!found.isFile()) throw Object.assign(new Error(`${file} is not a file`), { code: 'ENOTFILE' });
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.#logger.warn({ file, reason: code ?? (error as Error).message }, 'history file cannot be read: starting without its entries');
      return { entries: [], lines: 0, bytes: 0, tornEnd: false };
    }
    const entries: HistoryEntry[] = [];
    const lines = text.split('\n');
    const tornEnd = text.length > 0 && !text.endsWith('\n');
    if (!tornEnd) lines.pop();
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      const parsed = parseHistoryLine(line);
      if ('error' in parsed) {
        this.#logger.warn({ file, line: index + 1, reason: parsed.error }, 'history line skipped: it cannot be read');
        return;
      }
      entries.push(parsed);
    });
    return { entries, lines: lines.length, bytes: Buffer.byteLength(text), tornEnd };
  }
}
