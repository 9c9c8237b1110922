/**
 * The data of one zone and the RFC 2136 rules over it: lookups for queries, the five prerequisite kinds, the update
 * prescan and the update semantics, applied all-or-nothing, and the SOA serial raised on each change.
 */
import {
  RRClass,
  RRType,
  Rcode,
  canonicalName,
  decodeSoa,
  encodeName,
  encodeSoa,
  isInZone,
  typeName,
} from './wireFormat.js';

/** One RRset: its TTL and the data of each record, in canonical wire form. */
export interface RRset {
  readonly ttl: number;
  readonly rdatas: readonly Buffer[];
}

/** A prerequisite or update record as the server parsed it: canonical name, data uncompressed. */
export interface ZoneChangeRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

/** What a query finds. */
export type LookupResult =
  | { readonly kind: 'answer'; readonly rrsets: ReadonlyArray<{ readonly type: number; readonly rrset: RRset }> }
  | { readonly kind: 'nodata' }
  | { readonly kind: 'nxdomain' };

/** The outcome of an update: the rcode, and whether anything changed. */
export interface UpdateOutcome {
  readonly rcode: number;
  readonly changed: boolean;
}

type Names = Map<string, Map<number, RRset>>;

/** Types an update may not add (RFC 2136 3.4.1.3): meta types and query-only types. */
function isMetaType(type: number): boolean {
  return type === RRType.OPT || (type >= 128 && type <= 255) || type === 0;
}

/** Serial number arithmetic (RFC 1982): whether `a` is newer than `b`. */
function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31));
}

const SAME = (a: Buffer, b: Buffer) => a.equals(b);

/** The file format version of a persisted zone. */
const FILE_FORMAT = 'ag-zone-1';

/**
 * One zone in memory. Updates are all-or-nothing: they are applied to a copy, which replaces the live data only
 * after the optional `commit` (persistence) succeeded.
 *
 * @example
 * const zone = ZoneStore.create('example.test', { nameServerAddress: '127.0.0.1' });
 * zone.update(prerequisites, updates);
 * zone.lookup('app.example.test', RRType.A);
 */
export class ZoneStore {
  readonly zone: string;
  #names: Names;

  private constructor(zone: string, names: Names) {
    this.zone = zone;
    this.#names = names;
  }

  /** A fresh zone: SOA (serial 1) and NS `ns.<zone>`, with an A record for it when an address is given. */
  static create(zone: string, options: { nameServerAddress?: string } = {}): ZoneStore {
    const apex = canonicalName(zone);
    encodeName(apex);
    const names: Names = new Map();
    const ns = apex === '' ? 'ns' : `ns.${apex}`;
    const soa = encodeSoa({ mname: ns, rname: apex === '' ? 'hostmaster' : `hostmaster.${apex}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 });
    names.set(apex, new Map([[RRType.SOA, { ttl: 60, rdatas: [soa] }], [RRType.NS, { ttl: 60, rdatas: [encodeName(ns)] }]]));
    const address = options.nameServerAddress;
    if (address !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(address) && address !== '0.0.0.0') {
      names.set(ns, new Map([[RRType.A, { ttl: 60, rdatas: [Buffer.from(address.split('.').map(Number))] }]]));
    }
    return new ZoneStore(apex, names);
  }

  /** The zone's current SOA serial. */
  get serial(): number {
    return decodeSoa(this.soa().rdatas[0]!).serial;
  }

  /** The apex SOA RRset. */
  soa(): RRset {
    return this.#names.get(this.zone)!.get(RRType.SOA)!;
  }

  /** The TTL negative answers carry: the lesser of the SOA's TTL and its MINIMUM field (RFC 2308). */
  negativeTtl(): number {
    const soa = this.soa();
    return Math.min(soa.ttl, decodeSoa(soa.rdatas[0]!).minimum);
  }

  /** The RRset of `type` at `name`, if any. */
  rrset(name: string, type: number): RRset | undefined {
    return this.#names.get(canonicalName(name))?.get(type);
  }

  /** Answers a query for `name` (in the zone) and `type` (ANY for all). */
  lookup(name: string, type: number): LookupResult {
    const owner = canonicalName(name);
    const rrsets = this.#names.get(owner);
    if (rrsets === undefined) {
      const suffix = `.${owner}`;
      for (const other of this.#names.keys()) if (other.endsWith(suffix)) return { kind: 'nodata' }; // empty non-terminal
      return { kind: 'nxdomain' };
    }
    if (type === RRType.ANY) return { kind: 'answer', rrsets: [...rrsets].map(([t, rrset]) => ({ type: t, rrset })) };
    const exact = rrsets.get(type);
    if (exact !== undefined) return { kind: 'answer', rrsets: [{ type, rrset: exact }] };
    const cname = rrsets.get(RRType.CNAME);
    if (cname !== undefined) return { kind: 'answer', rrsets: [{ type: RRType.CNAME, rrset: cname }] };
    return { kind: 'nodata' };
  }

  /**
   * An RFC 2136 update: prerequisites (section 3.2), prescan (3.4.1), then the updates (3.4.2) on a copy; `commit`
   * sees the copy before it goes live and may throw to abandon it. The serial rises by one when anything changed,
   * unless the update set the SOA itself.
   */
  update(prerequisites: readonly ZoneChangeRecord[], updates: readonly ZoneChangeRecord[], commit?: (next: ZoneStore) => void): UpdateOutcome {
    const prerequisiteRcode = this.#checkPrerequisites(prerequisites);
    if (prerequisiteRcode !== Rcode.NOERROR) return { rcode: prerequisiteRcode, changed: false };
    const prescanRcode = this.#prescan(updates);
    if (prescanRcode !== Rcode.NOERROR) return { rcode: prescanRcode, changed: false };
    const next = new ZoneStore(this.zone, cloneNames(this.#names));
    const { changed, soaSet } = next.#apply(updates);
    if (!changed) return { rcode: Rcode.NOERROR, changed: false };
    if (!soaSet) next.#raiseSerial();
    commit?.(next);
    this.#names = next.#names;
    return { rcode: Rcode.NOERROR, changed: true };
  }

  #checkPrerequisites(prerequisites: readonly ZoneChangeRecord[]): number {
    const valueSets = new Map<string, { name: string; type: number; rdatas: Buffer[] }>();
    for (const rr of prerequisites) {
      if (rr.ttl !== 0) return Rcode.FORMERR;
      if (!isInZone(rr.name, this.zone)) return Rcode.NOTZONE;
      const rrsets = this.#names.get(rr.name);
      if (rr.class === RRClass.ANY) {
        if (rr.rdata.length !== 0) return Rcode.FORMERR;
        if (rr.type === RRType.ANY) {
          if (rrsets === undefined || rrsets.size === 0) return Rcode.NXDOMAIN; // name is in use
        } else if (rrsets?.get(rr.type) === undefined) return Rcode.NXRRSET; // RRset exists (value independent)
      } else if (rr.class === RRClass.NONE) {
        if (rr.rdata.length !== 0) return Rcode.FORMERR;
        if (rr.type === RRType.ANY) {
          if (rrsets !== undefined && rrsets.size > 0) return Rcode.YXDOMAIN; // name is not in use
        } else if (rrsets?.get(rr.type) !== undefined) return Rcode.YXRRSET; // RRset does not exist
      } else if (rr.class === RRClass.IN) {
        if (rr.type === RRType.ANY || isMetaType(rr.type)) return Rcode.FORMERR;
        // RRset exists (value dependent): collected first, compared as whole RRsets below.
        const key = `${rr.name}/${rr.type}`;
        const set = valueSets.get(key) ?? { name: rr.name, type: rr.type, rdatas: [] };
        if (!set.rdatas.some((data) => SAME(data, rr.rdata))) set.rdatas.push(rr.rdata);
        valueSets.set(key, set);
      } else return Rcode.FORMERR;
    }
    for (const set of valueSets.values()) {
      const stored = this.#names.get(set.name)?.get(set.type);
      if (stored === undefined || stored.rdatas.length !== set.rdatas.length) return Rcode.NXRRSET;
      if (!set.rdatas.every((data) => stored.rdatas.some((have) => SAME(have, data)))) return Rcode.NXRRSET;
    }
    return Rcode.NOERROR;
  }

  #prescan(updates: readonly ZoneChangeRecord[]): number {
    const queryOnly = (type: number) => type === RRType.AXFR || type === RRType.IXFR || type === RRType.MAILA || type === RRType.MAILB;
    for (const rr of updates) {
      if (!isInZone(rr.name, this.zone)) return Rcode.NOTZONE;
      if (rr.class === RRClass.IN) {
        if (rr.type === RRType.ANY || isMetaType(rr.type)) return Rcode.FORMERR;
      } else if (rr.class === RRClass.ANY) {
        if (rr.ttl !== 0 || rr.rdata.length !== 0 || queryOnly(rr.type) || (isMetaType(rr.type) && rr.type !== RRType.ANY)) return Rcode.FORMERR;
      } else if (rr.class === RRClass.NONE) {
        if (rr.ttl !== 0 || rr.type === RRType.ANY || isMetaType(rr.type)) return Rcode.FORMERR;
      } else return Rcode.FORMERR;
    }
    return Rcode.NOERROR;
  }

  /** Applies prescanned updates to this (private copy of the) zone. */
  #apply(updates: readonly ZoneChangeRecord[]): { changed: boolean; soaSet: boolean } {
    let changed = false;
    let soaSet = false;
    const atApex = (name: string) => name === this.zone;
    for (const rr of updates) {
      const rrsets = this.#names.get(rr.name);
      if (rr.class === RRClass.IN) {
        if (rr.type === RRType.SOA) {
          // An SOA is only ever replaced, at the apex, and by a newer serial.
          if (!atApex(rr.name) || !serialGreater(decodeSoa(rr.rdata).serial, this.serial)) continue;
          this.#names.get(this.zone)!.set(RRType.SOA, { ttl: rr.ttl, rdatas: [rr.rdata] });
          changed = soaSet = true;
          continue;
        }
        // CNAME and other data cannot share a name: the add that would break this is ignored.
        if (rr.type === RRType.CNAME && rrsets !== undefined && [...rrsets.keys()].some((type) => type !== RRType.CNAME)) continue;
        if (rr.type !== RRType.CNAME && rrsets?.has(RRType.CNAME)) continue;
        const names = rrsets ?? new Map<number, RRset>();
        const existing = names.get(rr.type);
        let rdatas: Buffer[];
        if (rr.type === RRType.CNAME) rdatas = [rr.rdata];
        else if (existing === undefined) rdatas = [rr.rdata];
        else if (existing.rdatas.some((data) => SAME(data, rr.rdata))) {
          if (existing.ttl === rr.ttl) continue;
          rdatas = [...existing.rdatas];
        } else rdatas = [...existing.rdatas, rr.rdata];
        // One TTL per RRset: the newest add sets it for the whole RRset.
        names.set(rr.type, { ttl: rr.ttl, rdatas });
        this.#names.set(rr.name, names);
        changed = true;
      } else if (rr.class === RRClass.ANY) {
        if (rrsets === undefined) continue;
        if (rr.type === RRType.ANY) {
          for (const type of [...rrsets.keys()]) {
            if (atApex(rr.name) && (type === RRType.SOA || type === RRType.NS)) continue;
            rrsets.delete(type);
            changed = true;
          }
        } else {
          if (atApex(rr.name) && (rr.type === RRType.SOA || rr.type === RRType.NS)) continue;
          if (rrsets.delete(rr.type)) changed = true;
        }
        if (rrsets.size === 0) this.#names.delete(rr.name);
      } else {
        // Class NONE: delete one RR.
        if (rr.type === RRType.SOA || rrsets === undefined) continue;
        const existing = rrsets.get(rr.type);
        if (existing === undefined || !existing.rdatas.some((data) => SAME(data, rr.rdata))) continue;
        if (atApex(rr.name) && rr.type === RRType.NS && existing.rdatas.length === 1) continue; // never the last NS
        const rest = existing.rdatas.filter((data) => !SAME(data, rr.rdata));
        if (rest.length === 0) rrsets.delete(rr.type);
        else rrsets.set(rr.type, { ttl: existing.ttl, rdatas: rest });
        if (rrsets.size === 0) this.#names.delete(rr.name);
        changed = true;
      }
    }
    return { changed, soaSet };
  }

  #raiseSerial(): void {
    const apex = this.#names.get(this.zone)!;
    const soaSet = apex.get(RRType.SOA)!;
    const soa = decodeSoa(soaSet.rdatas[0]!);
    // Serial arithmetic wraps at 2^32; 0 is skipped because some tools read it as "unset".
    const serial = (soa.serial + 1) % 2 ** 32 || 1;
    apex.set(RRType.SOA, { ttl: soaSet.ttl, rdatas: [encodeSoa({ ...soa, serial })] });
  }

  /** The zone as JSON: every record with its type, TTL and data in base64 wire form. */
  toJSON(): ZoneFileContents {
    const records: ZoneFileContents['records'] = [];
    for (const [name, rrsets] of this.#names) {
      for (const [type, rrset] of rrsets) {
        for (const rdata of rrset.rdatas) records.push({ name, type: typeName(type), ttl: rrset.ttl, rdata: rdata.toString('base64') });
      }
    }
    return { format: FILE_FORMAT, zone: this.zone, records };
  }

  /** A zone from its JSON form; throws an Error naming what is wrong. */
  static fromJSON(file: unknown): ZoneStore {
    const data = file as Partial<ZoneFileContents> | null;
    if (data === null || typeof data !== 'object' || data.format !== FILE_FORMAT || typeof data.zone !== 'string' || !Array.isArray(data.records)) {
      throw new Error(`not a zone file of format ${FILE_FORMAT}`);
    }
    const names: Names = new Map();
    for (const record of data.records) {
      const type = typeNumber(record.type);
      if (typeof record.name !== 'string' || type === undefined || !Number.isInteger(record.ttl) || typeof record.rdata !== 'string') {
        throw new Error(`bad record in zone file: ${JSON.stringify(record)}`);
      }
      const name = canonicalName(record.name);
      const rrsets = names.get(name) ?? new Map<number, RRset>();
      const existing = rrsets.get(type);
      rrsets.set(type, { ttl: record.ttl, rdatas: [...(existing?.rdatas ?? []), Buffer.from(record.rdata, 'base64')] });
      names.set(name, rrsets);
    }
    const store = new ZoneStore(canonicalName(data.zone), names);
    const soa = store.#names.get(store.zone)?.get(RRType.SOA)?.rdatas[0];
    if (soa === undefined) throw new Error('zone file has no SOA at the apex');
    decodeSoa(soa);
    return store;
  }
}

/** The JSON form of a zone. */
export interface ZoneFileContents {
  readonly format: string;
  readonly zone: string;
  readonly records: Array<{ name: string; type: string; ttl: number; rdata: string }>;
}

function typeNumber(name: unknown): number | undefined {
  if (typeof name !== 'string') return undefined;
  const known = (RRType as Record<string, number>)[name];
  if (known !== undefined) return known;
  const match = /^TYPE(\d{1,5})$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function cloneNames(names: Names): Names {
  const copy: Names = new Map();
  for (const [name, rrsets] of names) copy.set(name, new Map(rrsets));
  return copy;
}
