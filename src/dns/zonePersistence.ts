/**
 * Keeps a zone on disk so that a restart loses no committed update, the way BIND does it: a snapshot file written
 * atomically (temp file, fsync, rename), and a journal next to it (`<file>.jnl`) to which each update appends the
 * whole new zone as one JSON line and fdatasyncs before the server answers. Appending to one open file costs about
 * half of writing and renaming a new file per update. A torn last line (a crash mid-write) does not parse and is
 * ignored, so the journal's last complete line is always a committed state. The journal is folded into the
 * snapshot at open, at close, and when it grows past a size limit.
 */
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ZoneStore } from './zoneStore.js';

/** The journal is compacted into the snapshot when it grows past this many bytes. */
const JOURNAL_LIMIT = 1 << 20;

/**
 * The zone file of a running server.
 *
 * @example
 * const { persistence, store } = ZonePersistence.open('/var/lib/ag/zone.json', () => ZoneStore.create('example.test'));
 * zone.update(prerequisites, updates, (next) => persistence.commit(next));
 */
export class ZonePersistence {
  readonly path: string;
  #journal: number | undefined;
  #journalSize = 0;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Loads the newest committed zone (the journal's last complete line, else the snapshot, else `create()`), writes
   * it as the new snapshot, and opens an empty journal.
   */
  static open(path: string, create: () => ZoneStore): { persistence: ZonePersistence; store: ZoneStore } {
    const persistence = new ZonePersistence(path);
    const store = lastJournalState(`${path}.jnl`) ?? readSnapshot(path) ?? create();
    writeSnapshot(path, store);
    persistence.#journal = openSync(`${path}.jnl`, 'w', 0o600);
    return { persistence, store };
  }

  /** Makes `next` durable before it goes live; throws (and the update is abandoned) when the disk fails. */
  commit(next: ZoneStore): void {
    if (this.#journal === undefined) throw new Error('the zone file is closed');
    if (this.#journalSize > JOURNAL_LIMIT) this.#compact(next);
    else {
      const line = `${JSON.stringify(next.toJSON())}\n`;
      writeSync(this.#journal, line);
      fdatasyncSync(this.#journal);
      this.#journalSize += Buffer.byteLength(line);
    }
  }

  /** Folds the journal into the snapshot and closes the journal. */
  close(store: ZoneStore): void {
    if (this.#journal === undefined) return;
    this.#compact(store);
    closeSync(this.#journal);
    this.#journal = undefined;
  }

  #compact(store: ZoneStore): void {
    // Snapshot first, then empty the journal: a crash in between leaves a journal whose last line is the snapshot.
    writeSnapshot(this.path, store);
    ftruncateSync(this.#journal!, 0);
    fdatasyncSync(this.#journal!);
    this.#journalSize = 0;
  }
}

function readSnapshot(path: string): ZoneStore | undefined {
  const text = readIfExists(path);
  return text === undefined ? undefined : ZoneStore.fromJSON(JSON.parse(text));
}

function lastJournalState(path: string): ZoneStore | undefined {
  const text = readIfExists(path);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line === '') continue;
    try {
      return ZoneStore.fromJSON(JSON.parse(line));
    } catch {
      // A torn line from a crash mid-write: the line before it is the last committed state.
    }
  }
  return undefined;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes the snapshot atomically: a temp file in the same directory, flushed to disk, renamed over the old one. */
function writeSnapshot(path: string, store: ZoneStore): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(store.toJSON(), null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
