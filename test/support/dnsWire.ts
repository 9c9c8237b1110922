/** Raw DNS exchanges for tests: send exactly the message built, signed or not, and return the decoded answer. */
import { randomInt } from 'node:crypto';
import { exchange, type DnsServerAddress } from '../../src/dns/dnsTransport.js';
import { PreparedTsigKey, signMessage, type TsigKey } from '../../src/dns/tsig.js';
import { buildQueryMessage, buildUpdateMessage } from '../../src/dns/updateMessage.js';
import { exchangeTcpForTests } from './tcpExchange.js';
import { decodeMessage, type OutRecord, type WireMessage } from '../../src/dns/wireFormat.js';

/** Sends `message` and resolves with the decoded response carrying its ID (UDP, or TCP when `tcp`). */
export async function rawExchange(server: DnsServerAddress, message: Buffer, options: { tcp?: boolean } = {}): Promise<WireMessage> {
  const id = message.readUInt16BE(0);
  const accept = (bytes: Buffer) => {
    try {
      const decoded = decodeMessage(bytes);
      return decoded.id === id && decoded.qr ? { result: decoded, truncated: false } : undefined;
    } catch {
      return undefined;
    }
  };
  if (options.tcp) {
    return exchangeTcpForTests(server, message, accept);
  }
  return (await exchange(message, { server, timeoutMs: 2000, retries: 1, accept })).result;
}

/** An UPDATE with the given sections, signed with `key` unless it is null. */
export async function rawUpdate(
  server: DnsServerAddress,
  zone: string,
  key: TsigKey | null,
  prerequisites: readonly OutRecord[],
  updates: readonly OutRecord[],
  options: { timeShiftSeconds?: number } = {},
): Promise<WireMessage> {
  const unsigned = buildUpdateMessage({ id: randomInt(0x10000), zone, prerequisites, updates });
  const message =
    key === null
      ? unsigned
      : signMessage(unsigned, new PreparedTsigKey(key), { timeSigned: Math.floor(Date.now() / 1000) + (options.timeShiftSeconds ?? 0) }).message;
  return rawExchange(server, message);
}

/** An unsigned query without EDNS, over UDP unless `tcp`. */
export async function rawQuery(server: DnsServerAddress, name: string, type: number, options: { tcp?: boolean } = {}): Promise<WireMessage> {
  return rawExchange(server, buildQueryMessage({ id: randomInt(0x10000), name, type }), options);
}
