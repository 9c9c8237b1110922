/**
 * TSIG (RFC 8945): signatures round-trip, every field the MAC covers matters, and the bytes agree with BIND's own
 * tools (`dig -y` signs a query we verify; we sign the answer and dig verifies it, MAC chained on its request).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  PreparedTsigKey,
  TSIG_ALGORITHMS,
  findTsig,
  signMessage,
  verifyMessage,
  type TsigAlgorithm,
  type TsigKey,
} from '../src/dns/tsig.js';
import { buildQueryMessage } from '../src/dns/updateMessage.js';
import { RRClass, RRType, decodeMessage, encodeMessage, encodeSoa, headerFlags, Opcode } from '../src/dns/wireFormat.js';

const digMissing = execFileExists('dig') ? null : 'dig (bind9-dnsutils) is not installed';

function execFileExists(command: string): boolean {
  return spawnSync(command, ['-v']).error === undefined;
}

function keyFor(algorithm: TsigAlgorithm, name = 'test-key'): TsigKey {
  return { name, algorithm, secret: randomBytes(32).toString('base64') };
}

const NOW = 1_800_000_000;
const query = () => buildQueryMessage({ id: 0x1234, name: 'app.example.test', type: RRType.A });
const lookup = (key: PreparedTsigKey) => (name: string) => (name === key.name ? key : undefined);

function check(bytes: Buffer, key: PreparedTsigKey, options: Parameters<typeof verifyMessage>[3] = { now: NOW }) {
  const message = decodeMessage(bytes);
  const found = findTsig(message);
  if (found === null) throw new Error('no TSIG');
  return verifyMessage(message, found, lookup(key), options);
}

describe('TSIG sign and verify', () => {
  it.each(TSIG_ALGORITHMS)('%s: a signed message verifies, with a MAC of the full hash length', (algorithm) => {
    const key = new PreparedTsigKey(keyFor(algorithm));
    const { message, mac } = signMessage(query(), key, { timeSigned: NOW });
    expect(mac.length).toBe(key.macLength);
    expect(check(message, key)).toMatchObject({ ok: true });
    expect(decodeMessage(message).additionals).toHaveLength(1);
  });

  it('any changed byte of the signed part is BADSIG', () => {
    const key = new PreparedTsigKey(keyFor('hmac-sha256'));
    const { message } = signMessage(query(), key, { timeSigned: NOW });
    const unsignedLength = query().length;
    for (let i = 2; i < unsignedLength; i++) {
      if (i === 10 || i === 11) continue; // ARCOUNT: changing it breaks the framing, not just the MAC
      const tampered = Buffer.from(message);
      tampered[i] = tampered[i]! ^ 0x20;
      let result;
      try {
        result = check(tampered, key);
      } catch {
        continue; // no longer decodes: also refused
      }
      expect(result, `byte ${i}`).toMatchObject({ ok: false, error: 'BADSIG' });
    }
  });

  it('the original ID is what is signed: a forwarder may change the header ID', () => {
    const key = new PreparedTsigKey(keyFor('hmac-sha256'));
    const { message } = signMessage(query(), key, { timeSigned: NOW });
    const forwarded = Buffer.from(message);
    forwarded.writeUInt16BE(0x9999, 0);
    expect(check(forwarded, key)).toMatchObject({ ok: true });
  });

  it('an unknown key name or another algorithm is BADKEY; another secret is BADSIG', () => {
    const key = new PreparedTsigKey(keyFor('hmac-sha256'));
    const signedByOther = signMessage(query(), new PreparedTsigKey(keyFor('hmac-sha256', 'other')), { timeSigned: NOW }).message;
    expect(check(signedByOther, key)).toMatchObject({ ok: false, error: 'BADKEY' });
    const otherAlgorithm = signMessage(query(), new PreparedTsigKey({ ...keyFor('hmac-sha512'), name: 'test-key' }), { timeSigned: NOW }).message;
    expect(check(otherAlgorithm, key)).toMatchObject({ ok: false, error: 'BADKEY' });
    const otherSecret = signMessage(query(), new PreparedTsigKey(keyFor('hmac-sha256')), { timeSigned: NOW }).message;
    expect(check(otherSecret, key)).toMatchObject({ ok: false, error: 'BADSIG' });
  });

  it('key names compare in canonical form: case and a trailing dot do not matter', () => {
    const secret = randomBytes(32).toString('base64');
    const signer = new PreparedTsigKey({ name: 'Ag-Key.Example.', algorithm: 'hmac-sha256', secret });
    const verifier = new PreparedTsigKey({ name: 'ag-key.example', algorithm: 'hmac-sha256', secret });
    expect(check(signMessage(query(), signer, { timeSigned: NOW }).message, verifier)).toMatchObject({ ok: true });
  });

  it('a time off by more than the fudge (300 s) is BADTIME, at the fudge it is fine', () => {
    const key = new PreparedTsigKey(keyFor('hmac-sha256'));
    const at = (shift: number) => check(signMessage(query(), key, { timeSigned: NOW + shift }).message, key);
    expect(at(300)).toMatchObject({ ok: true });
    expect(at(-300)).toMatchObject({ ok: true });
    expect(at(301)).toMatchObject({ ok: false, error: 'BADTIME' });
    expect(at(-301)).toMatchObject({ ok: false, error: 'BADTIME' });
  });

  it('a response MAC is chained on the request MAC', () => {
    const key = new PreparedTsigKey(keyFor('hmac-sha256'));
    const request = signMessage(query(), key, { timeSigned: NOW });
    const otherRequest = signMessage(query(), key, { timeSigned: NOW + 1 });
    const answer = encodeMessage({ id: 0x1234, flags: headerFlags({ qr: true, aa: true, opcode: Opcode.QUERY }) });
    const response = signMessage(answer, key, { timeSigned: NOW, requestMac: request.mac }).message;
    expect(check(response, key, { now: NOW, requestMac: request.mac })).toMatchObject({ ok: true });
    expect(check(response, key, { now: NOW, requestMac: otherRequest.mac })).toMatchObject({ ok: false, error: 'BADSIG' });
    expect(check(response, key, { now: NOW })).toMatchObject({ ok: false, error: 'BADSIG' });
  });

  it('refuses a secret that is not base64 or an unknown algorithm, without echoing the secret', () => {
    expect(() => new PreparedTsigKey({ name: 'k', algorithm: 'hmac-sha256', secret: 'not base64!' })).toThrow(/not base64/);
    expect(() => new PreparedTsigKey({ name: 'k', algorithm: 'hmac-md5' as TsigAlgorithm, secret: 'AAAA' })).toThrow(/Unsupported/);
    const key = new PreparedTsigKey({ name: 'k', algorithm: 'hmac-sha256', secret: 'c2VjcmV0LXZhbHVl' });
    expect(JSON.stringify(key)).not.toContain('c2VjcmV0LXZhbHVl');
    expect(Object.values(key).join(' ')).not.toContain('c2VjcmV0LXZhbHVl');
  });
});

describe.skipIf(digMissing !== null)(`TSIG against BIND's dig${digMissing === null ? '' : ` (skipped: ${digMissing})`}`, () => {
  it.each(TSIG_ALGORITHMS)('%s: we verify what dig -y signs, and dig verifies our chained answer', async (algorithm) => {
    const key: TsigKey = { name: 'dig-key', algorithm, secret: randomBytes(32).toString('base64') };
    const prepared = new PreparedTsigKey(key);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const verified: boolean[] = [];
    socket.on('message', (bytes, peer) => {
      const request = decodeMessage(bytes);
      const found = findTsig(request)!;
      const result = verifyMessage(request, found, lookup(prepared));
      verified.push(result.ok);
      const answer = encodeMessage({
        id: request.id,
        flags: headerFlags({ qr: true, aa: true, opcode: Opcode.QUERY }),
        questions: request.questions,
        answers: [
          {
            name: 'example.test',
            type: RRType.SOA,
            class: RRClass.IN,
            ttl: 60,
            rdata: encodeSoa({ mname: 'ns.example.test', rname: 'h.example.test', serial: 7, refresh: 1, retry: 1, expire: 1, minimum: 1 }),
          },
        ],
      });
      socket.send(signMessage(answer, prepared, { requestMac: found.record.mac }).message, peer.port, peer.address);
    });
    const port = socket.address().port;
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        'dig',
        ['@127.0.0.1', '-p', String(port), '+norec', '+noedns', '+tries=1', '+time=2', '-y', `${algorithm}:${key.name}:${key.secret}`, 'example.test', 'SOA'],
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}${stderr}`)) : resolve(stdout + stderr)),
      ),
    );
    socket.close();
    expect(verified).toEqual([true]);
    expect(output).toContain('status: NOERROR');
    expect(output).not.toMatch(/could not be validated|Couldn't verify/);
    expect(output).toContain(`${algorithm}.`);
  });
});
