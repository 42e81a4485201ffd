import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { type RunningServer, makeModels, serve } from './helpers/serve.js';

/**
 * The playground page in a real browser: Debian's headless Chromium (`.ci/run` installs it)
 * driven by playwright-core. The page must stream a sample, colour a scored text and show a
 * hidden unit, with no console error and no failed request; the run writes docs/playground.png.
 */
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
/** The model the screenshot shows: trained long enough to write word-like text and draw a loss curve. */
const SHOWN_TRAINING = [
  '--layers', '2', '--hidden', '64', '--embed', '16', '--batch', '16', '--seq-len', '32', '--max-steps', '400', '--eval-every', '25', '--lr', '0.01',
];

const scratch = scratchFolder('rnn-playground-');
let server: RunningServer;
let context: BrowserContext;
let page: Page;
let profile: string;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  const models = await makeModels(scratch.dir, SHOWN_TRAINING);
  server = await serve(scratch.dir, ['--checkpoint', `tiny=${models.tiny}`, '--checkpoint', `gru=${models.gru}`, '--checkpoint', `words=${models.words}`]);
  profile = mkdtempSync(join(tmpdir(), 'rnn-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 780 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
});

afterAll(async () => {
  await context?.close();
  await server?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it('streams a sample, colours a scored text by surprise, shows hidden units and the loss chart, at both levels', async () => {
  await page.goto(server.url);
  await page.waitForFunction(() => document.querySelectorAll('#model option').length === 3);
  expect(await page.locator('#model-info').textContent()).toMatch(/^LSTM 2×64 · char level/);
  expect(await page.locator('#loss-chart polyline.train').getAttribute('points')).toMatch(/^(\S+,\S+ ){15}\S+,\S+$/);
  expect(await page.locator('#loss-chart circle.val-dot').count()).toBe(16);
  expect(await page.locator('#loss-chart text[text-anchor="middle"]').first().textContent()).toBe('0');

  // the sample streams in: its text shows while the rest of the answer is held back
  await page.selectOption('#model', 'gru');
  await page.fill('#prime', 'ROMEO:');
  await page.fill('#len', '2000');
  await page.evaluate(() => {
    const w = window as unknown as { release: () => void; fetch: typeof fetch };
    const drawn = document.querySelector('#sample .drawn')!;
    const held = new Promise<void>((resolve) => { w.release = resolve; });
    const realFetch = w.fetch.bind(w);
    w.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      if (!String(input).endsWith('/v1/generate')) return response;
      const reader = response.body!.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (drawn.textContent!.length > 0) await held;
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
  });
  await page.click('#generate');
  await page.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent!.length > 0);
  expect(await page.locator('#sample-status').textContent()).toBe('sampling…');
  await page.evaluate(() => (window as unknown as { release: () => void }).release());
  await page.waitForFunction(() => /2000 tokens in/.test(document.querySelector('#sample-status')!.textContent!));
  expect(await page.locator('#sample .prime').textContent()).toBe('ROMEO:');

  // the screenshot's model: a sample, the sample scored, a hidden unit
  await page.selectOption('#model', 'tiny');
  await page.fill('#prime', 'The ');
  await page.fill('#len', '260');
  await page.fill('#seed', '7');
  await page.click('#generate');
  await page.waitForFunction(() => /260 tokens in .* · seed 7$/.test(document.querySelector('#sample-status')!.textContent!));
  const text = 'The people of this country have the right to know what their government is doing.';
  await page.fill('#score-text', text);
  await page.click('#score');
  await page.waitForFunction(() => document.querySelectorAll('#scored span').length > 0);
  const colours = await page.$$eval('#scored span', (spans) => spans.map((s) => (s as HTMLElement).style.background));
  expect(colours).toHaveLength(text.length);
  expect(new Set(colours).size).toBeGreaterThan(5);
  expect(await page.locator('#score-status').textContent()).toMatch(/^\d+ predictions · [\d.]+ nats\/char/);
  await page.hover('#scored span:nth-child(5)');
  await expect.poll(() => page.locator('#tip').isVisible()).toBe(true);
  expect(await page.locator('#tip tr').count()).toBe(5);
  expect(await page.locator('#tip .head').textContent()).toMatch(/^"p" {2}p = [\d.e-]+/);
  // the keyboard reaches the same tip: a token takes the focus
  await page.mouse.move(0, 0);
  await expect.poll(() => page.locator('#tip').isVisible()).toBe(false);
  await page.focus('#scored span:nth-child(3)');
  await expect.poll(() => page.locator('#tip').isVisible()).toBe(true);
  expect(await page.locator('#tip .head').textContent()).toMatch(/^"e" {2}p = /);

  await page.selectOption('#layer', '1');
  await page.click('#most-active');
  await page.waitForFunction(() => document.querySelectorAll('#unit-picks button').length === 8);
  const first = await page.locator('#units').getAttribute('data-unit');
  await page.click('#unit-picks button:nth-child(2)');
  const second = await page.locator('#units').getAttribute('data-unit');
  expect(second).not.toBe(first);
  const shades = await page.$$eval('#units span', (spans) => spans.map((s) => (s as HTMLElement).style.background));
  expect(shades).toHaveLength(text.length);
  expect(new Set(shades).size).toBeGreaterThan(3);
  await page.mouse.move(0, 0);
  await page.hover('#scored span:nth-child(22)');
  await page.screenshot({ path: join(ROOT, 'docs', 'playground.png'), fullPage: true });

  // the word level: tokens are words, and nothing of the other model's stays on the page
  await page.selectOption('#model', 'words');
  expect(await page.locator('#model-info').textContent()).toMatch(/word level/);
  expect(await page.locator('#scored span, #units span, #unit-picks button').count()).toBe(0);
  expect(await page.locator('#sample').textContent()).toBe('');
  expect(await page.locator('#score-status').textContent()).toBe('');
  await page.fill('#score-text', '');
  await page.click('#score');
  expect(await page.locator('#score-status').textContent()).toBe('nothing to score: type or paste a text above');
  await page.fill('#score-text', 'The people of the United States.');
  await page.click('#score');
  await page.waitForFunction(() => document.querySelector('#scored span')?.textContent === 'The');
  expect(await page.locator('#scored span').count()).toBe(7);
  await page.click('#show-unit');
  await page.waitForFunction(() => document.querySelectorAll('#units span').length === 7);
  await page.fill('#prime', 'The xyzzyq of the');
  await page.fill('#len', '5');
  await page.click('#generate');
  await page.waitForFunction(() => /5 tokens in /.test(document.querySelector('#sample-status')!.textContent!));
  expect(await page.locator('#sample-status').textContent()).toMatch(/ · 1 token of the prime outside the vocabulary, read as <UNK>$/);

  // a phone's width: the cards fit it, with no sideways scrolling
  await page.setViewportSize({ width: 375, height: 740 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);

  expect(problems).toEqual([]);
});
