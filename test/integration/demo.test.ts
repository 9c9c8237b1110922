/**
 * The main job, as a new user runs it: `agctl demo` (what `npm start` runs) with the embedded DNS server, and with
 * `--dns-server` against a real BIND 9. Each run must exit 0 after showing the takeover over DNS and the old Primary
 * back as Secondary.
 */
import { describe, expect, it } from 'vitest';
import { runAgctl } from '../support/runAgctl.js';
import { bindUnavailableReason, startBind } from '../support/bind.js';

const bindMissing = bindUnavailableReason();
if (bindMissing !== null && process.env.CI) throw new Error(`The BIND half must run in CI: ${bindMissing}`);

function expectTheWholeStory(run: { code: number | null; stdout: string; stderr: string }): void {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/DNS: app\.demo\.test A 127\.0\.0\.3: the answer changed \d+ ms after the kill/);
  expect(run.stdout).toMatch(/event NODE_ROLE_CHANGED secondary -> primary \(epoch 2, primary absent\)/);
  expect(run.stdout).toMatch(/a is back as Secondary/);
  expect(run.stdout).toMatch(/^Failover: \d+ ms from kill -9 of the Primary/m);
}

describe('agctl demo, the main job', () => {
  it('runs the whole story on the embedded DNS server and exits 0', async () => {
    expectTheWholeStory(await runAgctl(['demo'], 60_000));
  });

  it.skipIf(bindMissing !== null)(`runs it against BIND 9 with --dns-server${bindMissing ? ` (skipped: ${bindMissing})` : ''}`, async () => {
    const secret = Buffer.from('availability-group-demo-test-key').toString('base64');
    const bind = await startBind({ zone: 'demo.test', keys: [{ name: 'ag-key', algorithm: 'hmac-sha256', secret }] });
    try {
      const run = await runAgctl(['demo', '--dns-server', `${bind.host}:${bind.port}`, '--tsig-name', 'ag-key', '--tsig-secret', secret, '--group-fqdn', 'app.demo.test'], 60_000);
      expect(run.stdout).toContain(`using the DNS server at ${bind.host}:${bind.port}`);
      expectTheWholeStory(run);
    } finally {
      await bind.stop();
    }
  });
});
