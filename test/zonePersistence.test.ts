/**
 * The embedded server's zone on disk after a crash: a torn last journal line (the write the crash cut short) is
 * dropped with a warning, and anything else that is not a committed zone stops the server from starting, with the
 * file and line named and both files left as they were, rather than serving an older A record.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../src/dns/dnsServer.js';
import { DnsUpdateClient } from '../src/dns/dnsUpdateClient.js';
import { ZoneFileCorruptError } from '../src/dns/errors.js';
import type { TsigKey } from '../src/dns/tsig.js';
import { ZonePersistence } from '../src/dns/zonePersistence.js';
import { ZoneStore } from '../src/dns/zoneStore.js';
import { RRClass, RRType, canonicalName, decodeA } from '../src/dns/wireFormat.js';

const ZONE = 'journal.test';
const FQDN = `app.${ZONE}`;
const KEY: TsigKey = { name: 'ag-key', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };

let root: string;
/** Snapshot and journal of a server that crashed after three answered updates: A .2, then .3, then .4. */
let crashed: { snapshot: Buffer; journal: Buffer; lines: string[] };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ag-journal-'));
  const dataFile = join(root, 'live.json');
  const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile });
  const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: server.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
  try {
    await dns.compareAndSwap(FQDN, { address: null }, { address: '127.0.0.2' }, { ttl: 30 });
    await dns.compareAndSwap(FQDN, { address: '127.0.0.2' }, { address: '127.0.0.3' }, { ttl: 30 });
    await dns.compareAndSwap(FQDN, { address: '127.0.0.3' }, { address: '127.0.0.4' }, { ttl: 30 });
    // Each answered update is in the journal before its answer: copying the files now is a crash image.
    const journal = await readFile(`${dataFile}.jnl`);
    crashed = { snapshot: await readFile(dataFile), journal, lines: journal.toString().split('\n').slice(0, -1) };
  } finally {
    dns.close();
    await server.stop();
  }
  expect(crashed.lines).toHaveLength(3);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let cases = 0;
/** A directory holding the crash image's snapshot and the given journal text. */
async function crashImage(journal: string | Buffer): Promise<{ dir: string; dataFile: string }> {
  const dir = join(root, `case-${++cases}`);
  await mkdir(dir);
  const dataFile = join(dir, 'zone.json');
  await writeFile(dataFile, crashed.snapshot);
  await writeFile(`${dataFile}.jnl`, journal);
  return { dir, dataFile };
}

/** Starts a server on the image, reads the A record, stops it. */
async function addressAfterRestart(dataFile: string, logger?: pino.Logger): Promise<string | null> {
  const server = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile, ...(logger === undefined ? {} : { logger }) });
  const dns = new DnsUpdateClient({ server: { host: '127.0.0.1', port: server.port }, zone: ZONE, tsig: KEY, timeoutMs: 1000, retries: 1 });
  try {
    return (await dns.read(FQDN)).address;
  } finally {
    dns.close();
    await server.stop();
  }
}

/** Expects the start to be refused naming `file` and `line`, with both files byte for byte as they were. */
async function expectRefused(image: { dir: string; dataFile: string }, file: string, line: number | undefined): Promise<ZoneFileCorruptError> {
  const before = { snapshot: await readFile(image.dataFile), journal: await readFile(`${image.dataFile}.jnl`), names: (await readdir(image.dir)).sort() };
  const error = await startDnsServer({ zone: ZONE, listen: { host: '127.0.0.1', port: 0 }, tsig: KEY, dataFile: image.dataFile }).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ZoneFileCorruptError);
  const refused = error as ZoneFileCorruptError;
  expect(refused).toMatchObject({ code: 'AG_DNS_ZONE_FILE_CORRUPT', file, line });
  expect(refused.message).toContain(file);
  if (line !== undefined) expect(refused.message).toContain(`line ${line}`);
  expect(await readFile(image.dataFile)).toEqual(before.snapshot);
  expect(await readFile(`${image.dataFile}.jnl`)).toEqual(before.journal);
  expect((await readdir(image.dir)).sort()).toEqual(before.names);
  return refused;
}

/** `line` with one character in its middle changed, as a flipped bit on disk would. */
function damaged(line: string): string {
  const at = line.indexOf('"records"');
  return `${line.slice(0, at)}#${line.slice(at + 1)}`;
}

describe('a crash image of the embedded server', () => {
  it('intact: the last answered update is served', async () => {
    const image = await crashImage(crashed.journal);
    expect(await addressAfterRestart(image.dataFile)).toBe('127.0.0.4');
  });

  it('a torn last line (no newline) is dropped with a warning naming it; the last answered update is served', async () => {
    const torn = crashed.lines[2]!.slice(0, 40);
    const image = await crashImage(`${crashed.journal.toString()}${torn}`);
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
    expect(await addressAfterRestart(image.dataFile, logger)).toBe('127.0.0.4');
    expect(lines.find((line) => line.msg === 'dropped a torn last journal line (a crash mid-write; that update was never answered)')).toMatchObject({
      level: 40,
      journal: `${image.dataFile}.jnl`,
      line: 4,
      bytes: 40,
    });
  });

  it('a last line cut short before its newline is dropped, even when what was written is a whole zone', async () => {
    const image = await crashImage(`${crashed.lines[0]}\n${crashed.lines[1]}\n${crashed.lines[2]}`);
    expect(await addressAfterRestart(image.dataFile)).toBe('127.0.0.3');
  });

  it('a last line the file system left as zeros is dropped', async () => {
    const zeros = '\u0000'.repeat(crashed.lines[2]!.length);
    const image = await crashImage(`${crashed.lines[0]}\n${crashed.lines[1]}\n${zeros}\n`);
    expect(await addressAfterRestart(image.dataFile)).toBe('127.0.0.3');
  });

  it('a damaged last committed line is refused, not rolled back to the line before (A 127.0.0.3)', async () => {
    const image = await crashImage(`${crashed.lines[0]}\n${crashed.lines[1]}\n${damaged(crashed.lines[2]!)}\n`);
    const error = await expectRefused(image, `${image.dataFile}.jnl`, 3);
    expect(error.message).toMatch(/last journal line was written whole \(it ends with its newline\) but is not a zone/);
  });

  it('a damaged line before the last is refused too (the disk is not to be trusted)', async () => {
    const image = await crashImage(`${crashed.lines[0]}\n${damaged(crashed.lines[1]!)}\n${crashed.lines[2]}\n`);
    await expectRefused(image, `${image.dataFile}.jnl`, 2);
  });

  it('a damaged line before a torn last line is refused', async () => {
    const image = await crashImage(`${crashed.lines[0]}\n${damaged(crashed.lines[1]!)}\n${crashed.lines[2]!.slice(0, 10)}`);
    await expectRefused(image, `${image.dataFile}.jnl`, 2);
  });

  it('zeros in a line before the last are damage, not a torn write', async () => {
    const zeros = '\u0000'.repeat(crashed.lines[1]!.length);
    const image = await crashImage(`${crashed.lines[0]}\n${zeros}\n${crashed.lines[2]}\n`);
    await expectRefused(image, `${image.dataFile}.jnl`, 2);
  });

  it('a line that is JSON but not a zone is refused', async () => {
    const image = await crashImage(`${crashed.lines[0]}\n{"format":"ag-zone-1"}\n${crashed.lines[2]}\n`);
    await expectRefused(image, `${image.dataFile}.jnl`, 2);
  });

  it('a damaged snapshot with an empty journal is refused, naming the snapshot', async () => {
    const image = await crashImage('');
    await writeFile(image.dataFile, crashed.snapshot.subarray(0, crashed.snapshot.length - 20));
    await expectRefused(image, image.dataFile, undefined);
  });

  it('a damaged snapshot does not matter while the journal holds the newest zone', async () => {
    const image = await crashImage(crashed.journal);
    await writeFile(image.dataFile, 'garbage');
    expect(await addressAfterRestart(image.dataFile)).toBe('127.0.0.4');
    // Rewritten from the journal at start.
    expect(JSON.parse(await readFile(image.dataFile, 'utf8'))).toMatchObject({ format: 'ag-zone-1', zone: ZONE });
  });
});

describe('the journal folded in while the server runs', () => {
  /** Sets the A record of FQDN in `store` through `persistence`, as an applied update does. */
  function setAddress(store: ZoneStore, persistence: ZonePersistence, address: string): void {
    const rdata = Buffer.from(address.split('.').map(Number));
    const outcome = store.update(
      [],
      [
        { name: canonicalName(FQDN), type: RRType.A, class: RRClass.ANY, ttl: 0, rdata: Buffer.alloc(0) },
        { name: canonicalName(FQDN), type: RRType.A, class: RRClass.IN, ttl: 30, rdata },
      ],
      (next) => persistence.commit(next),
    );
    expect(outcome.changed).toBe(true);
  }

  function addressIn(store: ZoneStore): string | null {
    const found = store.lookup(canonicalName(FQDN), RRType.A);
    return found.kind === 'answer' ? decodeA(found.rrsets[0]!.rrset.rdatas[0]!) : null;
  }

  it('keeps writing at the start of the emptied journal: a crash right after a fold loses nothing', async () => {
    const dir = join(root, 'folding');
    await mkdir(dir);
    const dataFile = join(dir, 'zone.json');
    const { persistence, store } = ZonePersistence.open(dataFile, () => ZoneStore.create(ZONE), { journalLimitBytes: 2000 });
    // Each line holds the whole zone (a few hundred bytes): the journal is folded in every few updates.
    for (let i = 1; i <= 40; i++) {
      setAddress(store, persistence, `127.0.1.${i}`);
      const journal = await readFile(`${dataFile}.jnl`);
      expect(journal.includes(0)).toBe(false);
      // Copy the files as a crash would leave them, after every update: the newest answered one is what comes back.
      const image = join(dir, `crash-${i}.json`);
      await writeFile(image, await readFile(dataFile));
      await writeFile(`${image}.jnl`, journal);
      const reopened = ZonePersistence.open(image, () => ZoneStore.create(ZONE));
      expect(addressIn(reopened.store)).toBe(`127.0.1.${i}`);
      reopened.persistence.close(reopened.store);
    }
    persistence.close(store);
  });
});
