/**
 * Keeps a zone on disk so that a restart loses no committed update, the way BIND does it: a snapshot file written
 * atomically (temp file, fsync, rename), and a journal next to it (`<file>.jnl`) to which each update appends the
 * whole new zone as one JSON line and fdatasyncs before the server answers. Appending to one open file costs about
 * half of writing and renaming a new file per update. The journal is folded into the snapshot at open, at close,
 * and when it grows past a size limit.
 *
 * Reading back is strict. Only the journal's last line may be dropped, and only when it is torn by a crash
 * mid-write: it lacks its newline (the write stopped short), or the file system left zeros in it. The server never
 * answered that update, so nothing answered is lost. Any other line that is not a zone, or a snapshot that is not
 * one, means the files were damaged after they were written: `open` throws `ZoneFileCorruptError` naming the file
 * and line and leaves both files untouched, instead of serving an older zone and overwriting the evidence.
 */
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ZoneFileCorruptError } from './errors.js';
import { ZoneStore } from './zoneStore.js';

/** The journal is compacted into the snapshot when it grows past this many bytes (default). */
const JOURNAL_LIMIT = 1 << 20;

/** Options of {@link ZonePersistence.open}. */
export interface ZonePersistenceOptions {
  /** Fold the journal into the snapshot when it grows past this many bytes (default 1 MiB). */
  readonly journalLimitBytes?: number;
}

/** A torn last journal line that `open` dropped: its 1-based line number and its length in bytes. */
export interface DroppedJournalTail {
  readonly line: number;
  readonly bytes: number;
}

/**
 * The zone file of a running server.
 *
 * @example
 * const { persistence, store } = ZonePersistence.open('/var/lib/ag/zone.json', () => ZoneStore.create('example.test'));
 * zone.update(prerequisites, updates, (next) => persistence.commit(next));
 */
export class ZonePersistence {
  readonly path: string;
  readonly #journalLimit: number;
  #journal: number | undefined;
  /** Bytes in the journal, which is also where the next line goes. */
  #journalSize = 0;

  private constructor(path: string, journalLimit: number) {
    this.path = path;
    this.#journalLimit = journalLimit;
  }

  /**
   * Loads the newest committed zone (the journal's last line, else the snapshot, else `create()`), writes it as the
   * new snapshot, and opens an empty journal. `droppedTail` says when a torn last journal line was dropped. Throws
   * `ZoneFileCorruptError`, before writing anything, when a file holds anything else than committed zones.
   */
  static open(
    path: string,
    create: () => ZoneStore,
    options: ZonePersistenceOptions = {},
  ): { persistence: ZonePersistence; store: ZoneStore; droppedTail?: DroppedJournalTail } {
    const persistence = new ZonePersistence(path, options.journalLimitBytes ?? JOURNAL_LIMIT);
    const journal = readJournal(`${path}.jnl`);
    const store = journal?.last ?? readSnapshot(path) ?? create();
    writeSnapshot(path, store);
    persistence.#journal = openSync(`${path}.jnl`, 'w', 0o600);
    return journal?.droppedTail === undefined ? { persistence, store } : { persistence, store, droppedTail: journal.droppedTail };
  }

  /** Makes `next` durable before it goes live; throws (and the update is abandoned) when the disk fails. */
  commit(next: ZoneStore): void {
    if (this.#journal === undefined) throw new Error('the zone file is closed');
    if (this.#journalSize > this.#journalLimit) this.#compact(next);
    else {
      const line = `${JSON.stringify(next.toJSON())}\n`;
      // At an explicit position: truncating the journal does not move the file offset, and writing at the old one
      // would leave a hole of zeros at the start of the journal.
      writeSync(this.#journal, line, this.#journalSize);
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
  if (text === undefined) return undefined;
  try {
    return ZoneStore.fromJSON(JSON.parse(text));
  } catch (error) {
    throw new ZoneFileCorruptError(path, undefined, `not a zone snapshot (${(error as Error).message})`);
  }
}

/**
 * The journal's newest zone, after checking every line. Each line ends with a newline and holds a whole zone; the
 * last one may be torn (see the module comment) and is then dropped. Undefined when there is no journal or it
 * holds no line.
 */
function readJournal(path: string): { last: ZoneStore | undefined; droppedTail?: DroppedJournalTail } | undefined {
  const text = readIfExists(path);
  if (text === undefined || text === '') return undefined;
  const lines = text.split('\n');
  // What follows the last newline: '' when the file ends with one, else a line whose write stopped short.
  const unterminated = lines.pop()!;
  let droppedTail: DroppedJournalTail | undefined =
    unterminated === '' ? undefined : { line: lines.length + 1, bytes: Buffer.byteLength(unterminated) };
  let last: ZoneStore | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const isLast = index === lines.length - 1 && droppedTail === undefined;
    try {
      last = ZoneStore.fromJSON(JSON.parse(line));
    } catch (error) {
      // JSON.stringify never writes a NUL byte: zeros in the last line are a write the crash cut short.
      if (isLast && line.includes('\u0000')) {
        droppedTail = { line: index + 1, bytes: Buffer.byteLength(line) + 1 };
        break;
      }
      const after = lines.length - 1 - index;
      const what = isLast
        ? 'the last journal line was written whole (it ends with its newline) but is not a zone'
        : `a journal line with ${after} more after it is not a zone`;
      throw new ZoneFileCorruptError(path, index + 1, `${what} (${(error as Error).message})`);
    }
  }
  return droppedTail === undefined ? { last } : { last, droppedTail };
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
