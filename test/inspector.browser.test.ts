/**
 * The inspector in a real headless browser (Debian's chromium, driven by playwright-core; nothing downloaded):
 * the live page's highlight moves when the Primary crashes and the Secondary takes over, and the replay page steps
 * through the recorded log.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectorPlugin } from '../src/http/inspector/inspectorPlugin.js';
import { serveReplay } from '../src/http/inspector/serveReplay.js';
import { listenInTestRange, startTwoNodes, STEADY_GROUP, testApp, TEST_TOKEN } from './support/inspector.js';

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
    // Timers slow enough that b stays Secondary while the page loads on a busy machine (takeover in about 3 s).
    const nodes = await startTwoNodes(STEADY_GROUP);
    const app = testApp();
    await app.register(inspectorPlugin, { node: nodes.b, log: nodes.log, apiToken: TEST_TOKEN });
    const base = await listenInTestRange(app, 19420);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    try {
      await page.goto(`${base}/ag/inspect?token=${TEST_TOKEN}`);
      await page.waitForSelector('body[data-top-state="secondary"]', { timeout: 20_000 });
      expect(await page.locator('[id="state-member.following.secondary"]').getAttribute('class')).toContain('active');
      expect(await page.locator('[id="state-member.primary"]').getAttribute('class')).not.toContain('active');

      await nodes.a.stop({ handOver: false });
      await page.waitForSelector('[id="state-member.primary"].active', { state: 'attached', timeout: 30_000 });
      await page.waitForSelector('body[data-top-state="primary"]', { timeout: 10_000 });
      expect(await page.locator('[id="state-member.following.secondary"]').getAttribute('class')).not.toContain('active');
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
      expect(await replay.locator('[id="state-member.following.takingOver"]').getAttribute('class')).toContain('active');
      await replay.screenshot({ path: new URL('inspector-replay.png', SHOTS).pathname });
    } finally {
      await replay.close();
      await served.close();
    }
  });
});

/**
 * The group inspector at a laptop's window (1,400 × 900) and "fit" zoom: the chart is legible (a state's title at
 * least 9 px high, every edge label's text at least 8 px, every state box inside the window), both nodes have a
 * swimlane, the jump buttons move the replay cursor to the next role change, and the notes fit their panel. A screenshot goes to .tmp/ always, and to
 * docs/inspector-group.png (the README's picture) with AG_DOCS_SCREENSHOT=1.
 */
describe.skipIf(!existsSync(CHROMIUM))('group inspector at 1400 x 900', () => {
  let browser: Browser;

  beforeAll(async () => {
    // playwright starts chromium with a fresh --user-data-dir of its own (a new temporary profile, removed on close);
    // each page gets its own context, so closing it closes its connections and the servers can close at once.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /**
   * The chart at "fit": the smallest state title's height, the smallest edge label (drawn on an edge, or listed in its
   * source's box) as font size in screen pixels and as box height, and the state boxes that stick out of the window.
   */
  async function chartLegibility(page: Page): Promise<{ titleHeight: number; fontPx: number; labelFontPx: number; labelHeight: number; labels: number; outside: string[]; states: number }> {
    await page.click('button[data-zoom="fit"]');
    // Run in the page (the project's TypeScript has no DOM types, so the function is given as text).
    return page.evaluate(`(() => {
      const screenFont = (text) => parseFloat(getComputedStyle(text).fontSize) * (text.getScreenCTM()?.a ?? 0);
      const titles = [...document.querySelectorAll('#chart .state .title')];
      const heights = titles.map((title) => title.getBoundingClientRect().height);
      const labels = [...document.querySelectorAll('#chart .edge .label, #chart .edge.listed text')];
      const outside = [...document.querySelectorAll('#chart .state')]
        .filter((state) => {
          const box = state.querySelector('rect').getBoundingClientRect();
          return box.left < 0 || box.top < 0 || box.right > window.innerWidth || box.bottom > window.innerHeight || box.width === 0;
        })
        .map((state) => state.getAttribute('data-state') ?? '?');
      return {
        titleHeight: Math.min(...heights),
        fontPx: Math.min(...titles.map(screenFont)),
        labelFontPx: Math.min(...labels.map(screenFont)),
        labelHeight: Math.min(...labels.map((label) => label.getBoundingClientRect().height)),
        labels: labels.length,
        outside,
        states: titles.length,
      };
    })()`);
  }

  /** The legibility floor at "fit" in a 1,400 × 900 window: state titles at least 9 px high, edge labels' text 8 px. */
  function expectLegible(legibility: Awaited<ReturnType<typeof chartLegibility>>): void {
    expect(legibility.states).toBeGreaterThan(5);
    expect(legibility.labels).toBeGreaterThan(10);
    expect(legibility.outside, 'state boxes outside the 1400 x 900 window').toEqual([]);
    expect(legibility.titleHeight, `a state title is ${legibility.titleHeight} px high (font ${legibility.fontPx} px)`).toBeGreaterThanOrEqual(9);
    expect(legibility.labelFontPx, `an edge label's text is ${legibility.labelFontPx} px (box ${legibility.labelHeight} px high)`).toBeGreaterThanOrEqual(8);
  }

  it('shows both nodes, jumps to role changes, and keeps the chart and notes legible', async () => {
    // Slower timers than the other tests: b must stay Secondary while the page loads on a busy machine.
    const nodes = await startTwoNodes(STEADY_GROUP);
    const app = testApp();
    await app.register(inspectorPlugin, { node: nodes.b, log: nodes.log, apiToken: TEST_TOKEN, watchIntervalMs: 100 });
    const base = await listenInTestRange(app, 19470);
    const live = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await live.goto(`${base}/ag/inspect?token=${TEST_TOKEN}`);
      await live.waitForSelector('body[data-top-state="secondary"]', { timeout: 20_000 });
      // The Secondary's countdown to takeover, fed by the stream's watch messages.
      await live.waitForSelector('#countdown:not([hidden])', { timeout: 10_000 });
      expect(await live.locator('#countdown').innerText()).toMatch(/Primary silent \d+\.\d s of 3\.0 s/);
      expectLegible(await chartLegibility(live));
      await live.screenshot({ path: new URL('inspector-live-1400.png', SHOTS).pathname });
      await nodes.a.stop({ handOver: false });
      // Takeover after allowed_absence_interval (3 s) and a standby check; generous deadline for a loaded machine.
      await live.waitForSelector('body[data-top-state="primary"]', { timeout: 30_000 });
      await live.waitForSelector('#countdown[hidden]', { state: 'attached', timeout: 5_000 });
    } finally {
      await live.close();
      await app.close();
      await nodes.stop();
    }

    const served = await serveReplay([nodes.logA.toJsonLines(), nodes.log.toJsonLines()], { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(served.url);
      await page.waitForSelector('body[data-step="0"]', { timeout: 10_000 });
      expect(served.trace.nodes).toEqual(['a', 'b']);
      expect(await page.locator('#lanes .lane').evaluateAll((lanes) => lanes.map((lane) => lane.getAttribute('data-node')))).toEqual(['a', 'b']);
      // Each lane shows its node's roles: a was primary, b secondary then primary.
      expect(await page.locator('#lanes .lane[data-node="a"] .seg[data-role="primary"]').count()).toBeGreaterThan(0);
      expect(await page.locator('#lanes .lane[data-node="b"] .seg[data-role="secondary"]').count()).toBeGreaterThan(0);
      expect(await page.locator('#lanes .lane[data-node="b"] .seg[data-role="primary"]').count()).toBeGreaterThan(0);

      // "next role change" moves the cursor to each step where a node's role or epoch changed, in order.
      const steps = served.trace.steps;
      const changes: number[] = [];
      const last = new Map<string, (typeof steps)[number]>();
      steps.forEach((step, index) => {
        const previous = last.get(step.node);
        if (previous !== undefined && (previous.role !== step.role || previous.epoch !== step.epoch)) changes.push(index);
        last.set(step.node, step);
      });
      expect(changes.length).toBeGreaterThanOrEqual(2);
      for (const expected of changes.slice(0, 4)) {
        await page.click('#next-role');
        await page.waitForSelector(`body[data-step="${expected}"]`, { timeout: 5_000 });
        expect(Number(await page.getAttribute('#lanes', 'data-cursor-t'))).toBe(steps[expected]!.t);
      }
      // b's takeover is among them: its step into primary.
      expect(changes.some((index) => steps[index]!.node === 'b' && steps[index]!.role === 'primary')).toBe(true);

      // Heartbeat and standby-check steps are folded until asked for.
      const noiseRows = page.locator('#entries tr.noise');
      if ((await noiseRows.count()) > 0) {
        expect(await noiseRows.first().isVisible()).toBe(false);
        await page.check('#show-noise');
        expect(await noiseRows.first().isVisible()).toBe(true);
        await page.uncheck('#show-noise');
      }

      await page.click('#last');
      const notes = await page.locator('#notes .note').evaluateAll((items) => items.map((item) => ({ text: item.textContent, scroll: item.scrollWidth, client: item.clientWidth })));
      expect(notes.length).toBeGreaterThan(0);
      for (const note of notes) expect(note.scroll, `note "${note.text}" overflows its panel`).toBeLessThanOrEqual(note.client);

      // The picture: b's takeover, on b's chart.
      await page.selectOption('#node', 'b');
      await page.click('#first');
      const takeover = changes.find((index) => steps[index]!.node === 'b' && steps[index]!.role === 'primary')!;
      for (let jumps = changes.indexOf(takeover) + 1; jumps > 0; jumps -= 1) await page.click('#next-role');
      await page.waitForSelector(`body[data-step="${takeover}"]`, { timeout: 5_000 });
      const legibility = await chartLegibility(page);
      expectLegible(legibility);
      const shot = await page.screenshot({ path: new URL('inspector-group.png', SHOTS).pathname });
      if (process.env.AG_DOCS_SCREENSHOT === '1') await writeFile(new URL('../docs/inspector-group.png', import.meta.url), shot);
      console.log(
        `group inspector at 1400x900, fit: smallest state title ${legibility.titleHeight.toFixed(1)} px high (font ${legibility.fontPx.toFixed(1)} px), smallest edge label font ${legibility.labelFontPx.toFixed(1)} px (${legibility.labelHeight.toFixed(1)} px high), ${legibility.labels} label lines`,
      );
    } finally {
      await page.close();
      await served.close();
    }
  }, 180_000);
});
