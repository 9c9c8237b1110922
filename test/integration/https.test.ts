/**
 * Two real node processes over HTTPS, each with its own certificate signed by a private CA (`tls_ca_file`): the
 * group forms, the Secondary joins over the signed peer channel on TLS and receives direct heartbeats, and a change
 * of group settings reaches it. Certificates are made with openssl for this run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/cli/agctlProcess.js';
import { AgctlProcess, startTestDns, waitFor, type TestDns } from '../support/processes.js';

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/** A private CA, and one certificate per node naming its address, signed by that CA. */
function makeCertificates(dir: string, nodes: Record<string, string>): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-subj', '/CN=ag-test-private-ca']);
  for (const [id, address] of Object.entries(nodes)) {
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${id}-key.pem`, '-out', `${id}.csr`, '-subj', `/CN=node-${id}`]);
    writeFileSync(join(dir, `${id}.ext`), `subjectAltName=IP:${address}\n`);
    openssl(dir, ['x509', '-req', '-in', `${id}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-out', `${id}.pem`, '-extfile', `${id}.ext`]);
  }
}

/** A JSON API call over HTTPS that trusts only the private CA. */
function api(url: string, token: string, ca: Buffer, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      { method, ca, headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, timeout: 5000 },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(new Error(`${url} answered ${response.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject).on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.end(payload);
  });
}

describe('two node processes over HTTPS with a private CA', () => {
  let dir: string;
  let dns: TestDns;
  let ca: Buffer;
  const processes: AgctlProcess[] = [];
  const token = 'https-test-token-0123456789';
  let urls: Record<'a' | 'b', string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ag-https-'));
    makeCertificates(dir, { a: '127.0.0.2', b: '127.0.0.3' });
    ca = readFileSync(join(dir, 'ca.pem'));
    dns = await startTestDns('embedded', dir);
    const port = await freePort(['127.0.0.2', '127.0.0.3'], { from: 19000, to: 19999 });
    urls = { a: `https://127.0.0.2:${port}/ag/api/v1`, b: `https://127.0.0.3:${port}/ag/api/v1` };
    const common = {
      external_port: port,
      external_scheme: 'https',
      group_fqdn: `app.${dns.zone}`,
      dns_server: `${dns.host}:${dns.port}`,
      api_token: token,
      peer_secret: 'https-test-peer-secret-0123',
      health_report_interval: 0.2,
      health_check_interval: 0.2,
      allowed_absence_interval: 1,
      tls_ca_file: join(dir, 'ca.pem'),
    };
    for (const [id, address] of [['a', '127.0.0.2'], ['b', '127.0.0.3']] as const) {
      const tsig = id === 'a' ? { tsig_name: dns.key.name, tsig_secret: dns.key.secret } : {};
      const own = { node_id: id, external_ipv4_address: address, data_dir: join(dir, id), tls_cert_file: join(dir, `${id}.pem`), tls_key_file: join(dir, `${id}-key.pem`) };
      await writeFile(join(dir, `${id}.json`), JSON.stringify({ ...common, ...own, ...tsig }));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.kill('SIGKILL')));
    await dns?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('forms the group: the Secondary joins and receives direct heartbeats over TLS', async () => {
    const a = AgctlProcess.spawn('https-a', ['start', '--config', join(dir, 'a.json'), '--create-group']);
    processes.push(a);
    await a.waitForLog((line) => line.msg === 'node listening', 30_000);
    await waitFor('a acting as Primary', async () => (await api(`${urls.a}/state`, token, ca)).body.acting_primary === true || undefined, 15_000);
    const b = AgctlProcess.spawn('https-b', ['start', '--config', join(dir, 'b.json'), '--join']);
    processes.push(b);
    await b.waitForLog((line) => line.msg === 'node listening', 30_000);
    const state = await waitFor('b Secondary with direct heartbeats', async () => {
      const { body } = await api(`${urls.b}/state`, token, ca);
      return body.node_role === 'secondary' && body.heartbeat_method === 'direct' ? body : undefined;
    }, 15_000);
    expect(state.node_dns_connection_state).toBe('connected');
  });

  it('a change of group settings on the Primary reaches the Secondary over TLS', async () => {
    const changed = await api(`${urls.a}/group`, token, ca, 'PUT', { group_fqdn_ttl: 50 });
    expect(changed).toMatchObject({ status: 200, body: { secondary: 'updated' } });
    expect((await api(`${urls.b}/group`, token, ca)).body.configuration.group_fqdn_ttl).toBe(50);
  });
});
