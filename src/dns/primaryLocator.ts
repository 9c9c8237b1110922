import { randomInt } from 'node:crypto';
import { DnsUnreachableError } from '../api/errors.js';
import { exchange, parseHostPort, type DnsServerAddress } from './dnsTransport.js';
import { buildQueryMessage } from './updateMessage.js';
import { RRType, Rcode, canonicalName, decodeA, decodeMessage, rcodeName } from './wireFormat.js';

/** Finds the address of a group's Primary by the group's FQDN: what `PUT /group/members` and `agctl start --join` use. */
export type PrimaryLocator = (groupFqdn: string) => Promise<string>;

/**
 * Reads the A record of `fqdn` straight from the authoritative server with a plain (unsigned) query: a node about
 * to join has no TSIG key yet (it gets it from the Primary). Rejects with `DnsUnreachableError` when the server does
 * not answer, and with an Error when the name has no A record.
 *
 * @example
 * const address = await lookupAddress({ host: '127.0.0.1', port: 5353 }, 'app.example.test'); // '127.0.0.2'
 */
export async function lookupAddress(server: DnsServerAddress, fqdn: string, timeoutMs = 1000): Promise<string> {
  const id = randomInt(0x10000);
  const name = canonicalName(fqdn);
  const { result } = await exchange(buildQueryMessage({ id, name, type: RRType.A }), {
    server,
    timeoutMs,
    retries: 2,
    accept: (bytes) => {
      try {
        const message = decodeMessage(bytes);
        return message.id === id && message.qr ? { result: message, truncated: message.tc } : undefined;
      } catch {
        return undefined;
      }
    },
  });
  if (result.rcode !== Rcode.NOERROR && result.rcode !== Rcode.NXDOMAIN) {
    throw new DnsUnreachableError(`The DNS server answered the query for ${name} with ${rcodeName(result.rcode)}.`, { rcode: rcodeName(result.rcode) });
  }
  const record = result.answers.find((answer) => answer.type === RRType.A && canonicalName(answer.name) === name);
  if (record === undefined) throw new Error(`${name} has no A record: is the group created?`);
  return decodeA(record.rdata);
}

/**
 * A {@link PrimaryLocator} over a DNS server given as `host:port`: the Primary is whatever the group's A record names.
 *
 * @example
 * await app.register(availabilityGroupPlugin, { node, apiToken, locatePrimary: createPrimaryLocator('127.0.0.1:5353') });
 */
export function createPrimaryLocator(dnsServer: string, timeoutMs = 1000): PrimaryLocator {
  const server = parseHostPort(dnsServer);
  return (groupFqdn) => lookupAddress(server, groupFqdn, timeoutMs);
}
