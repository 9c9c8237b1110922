/**
 * BIND 9 as a caching forwarder, as clients meet it: `named -g` in a temp dir on 127.0.0.1 and a free port, with
 * recursion on and every query forwarded (`forward only`) to one authority, answers cached for their TTL (no
 * serve-stale, no prefetch below a 9 s TTL: BIND's defaults). Ready when it resolves a name through the authority.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsServerAddress } from '../../src/dns/dnsTransport.js';
import { findNamed, freePort } from '../../test/support/bind.js';
import { pollDnsAddress } from './dnsAddressPoll.js';

/** A running resolver. */
export interface CachingResolver {
  readonly server: DnsServerAddress;
  stop(): Promise<void>;
}

function namedConf(dir: string, port: number, authority: DnsServerAddress): string {
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion yes;
  allow-query { 127.0.0.1; };
  allow-recursion { 127.0.0.1; };
  forward only;
  forwarders { ${authority.host} port ${authority.port}; };
  dnssec-validation no;
  notify no;
  stale-answer-enable no;
  max-cache-size 32m;
};
controls { };
`;
}

/**
 * Starts the resolver and waits until it answers `fqdn` with one of `addresses` (got from the authority).
 *
 * @example
 * const resolver = await startCachingResolver(group.authority.server, 'app.example.test', ['127.0.0.2', '127.0.0.3']);
 * try { ... } finally { await resolver.stop(); }
 */
export async function startCachingResolver(authority: DnsServerAddress, fqdn: string, addresses: readonly string[]): Promise<CachingResolver> {
  const named = findNamed();
  if (named === null) throw new Error('BIND 9 (named) is not installed: apt-get install bind9');
  const dir = await mkdtemp(join(tmpdir(), 'ag-kb-resolver-'));
  const port = await freePort('127.0.0.1');
  await writeFile(join(dir, 'named.conf'), namedConf(dir, port, authority));
  let log = '';
  const child = spawn(named, ['-g', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const server = { host: '127.0.0.1', port };
  try {
    await pollDnsAddress({ server, fqdn, expected: addresses, everyMs: 100, recursion: true, deadlineMs: 15_000 }).seen;
  } catch (error) {
    await stop();
    throw new Error(`The caching resolver did not resolve ${fqdn} (${(error as Error).message}):\n${log}`);
  }
  return { server, stop };
}
