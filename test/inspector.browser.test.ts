/**
 * The inspector in a real headless browser (Debian's chromium, driven by playwright-core; nothing downloaded):
 * the live page's highlight moves when the Primary crashes and the Secondary takes over, and the replay page steps
 * through the recorded log.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectorPlugin } from '../src/http/inspector/inspectorPlugin.js';
import { serveReplay } from '../src/http/inspector/serveReplay.js';
import { listenInTestRange, startTwoNodes, testApp, TEST_TOKEN } from './support/inspector.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = new URL('../.tmp/', import.meta.url);

describe.skipIf(!existsSync(CHROMIUM))('inspector page in a headless browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('moves the highlight to primary when the Secondary takes over, and replays the log', async () => {
    const nodes = await startTwoNodes();
    const app = testApp();
    await app.register(inspectorPlugin, { node: nodes.b, log: nodes.log, apiToken: TEST_TOKEN });
    const base = await listenInTestRange(app, 19420);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    try {
      await page.goto(`${base}/ag/inspect?token=${TEST_TOKEN}`);
      await page.waitForSelector('body[data-top-state="secondary"]', { timeout: 10_000 });
      expect(await page.locator('#state-secondary').getAttribute('class')).toContain('active');
      expect(await page.locator('#state-primary').getAttribute('class')).not.toContain('active');

      await nodes.a.stop({ handOver: false });
      await page.waitForSelector('#state-primary.active', { state: 'attached', timeout: 10_000 });
      await page.waitForSelector('body[data-top-state="primary"]', { timeout: 10_000 });
      expect(await page.locator('#state-secondary').getAttribute('class')).not.toContain('active');
      expect(await page.locator('#entries').innerText()).toContain('takingOver');
      expect(await page.locator('#fields').innerText()).toMatch(/nodeRole\s+primary/);
      await page.screenshot({ path: new URL('inspector-live.png', SHOTS).pathname });
      // Offline: the page asked nothing of anyone but the node.
      expect(requests.every((url) => url.startsWith(base))).toBe(true);
    } finally {
      await page.close();
      await app.close();
      await nodes.stop();
    }

    // The same transitions, replayed from the node's own event log.
    const file = new URL('inspector-b.log.jsonl', SHOTS).pathname;
    await writeFile(file, nodes.log.toJsonLines());
    const served = await serveReplay(nodes.log.toJsonLines(), { port: 0 });
    const replay = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await replay.goto(served.url);
      await replay.waitForSelector('body[data-step="0"]', { timeout: 10_000 });
      await replay.click('#last');
      await replay.waitForSelector('body[data-top-state="primary"]', { timeout: 5_000 });
      const last = served.trace.steps.length - 1;
      expect(await replay.getAttribute('body', 'data-step')).toBe(String(last));
      // Step back until b is no longer primary: the highlight follows.
      const takeover = served.trace.steps.findIndex((step) => step.state.startsWith('takingOver'));
      expect(takeover).toBeGreaterThan(0);
      for (let i = last; i > takeover; i -= 1) await replay.keyboard.press('ArrowLeft');
      await replay.waitForSelector(`body[data-step="${takeover}"]`, { timeout: 5_000 });
      expect(await replay.getAttribute('body', 'data-top-state')).toBe('takingOver');
      expect(await replay.locator('#state-takingOver').getAttribute('class')).toContain('active');
      await replay.screenshot({ path: new URL('inspector-replay.png', SHOTS).pathname });
    } finally {
      await replay.close();
      await served.close();
    }
  });
});
