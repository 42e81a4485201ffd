import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ROOT, rnnIn } from './helpers/cli.js';
import { contrastFaults } from './helpers/contrast.js';
import { scratchFolder } from './helpers/files.js';
import { type RunningServer, TINY_TRAINING, makeEosModel, makeModels, request, serve } from './helpers/serve.js';
import { collect } from './helpers/generation.js';
import { loadModel } from '../src/api/index.js';

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
/** What playground.css draws for an <EOS>: a tag, held to the text before it by a word joiner. */
const EOS_TAG = '"\u2060EOS"';
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
  server = await serve(scratch.dir, ['--checkpoint', `tiny=${models.tiny}`, '--checkpoint', `gru=${models.gru}`, '--checkpoint', `words=${models.words}`, '--max-len', '2500']);
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
  expect(await page.locator('#model-info').textContent()).toMatch(/^LSTM 2×64 · char level · 74 tokens · /);
  expect(await page.locator('#len').getAttribute('max')).toBe('2500'); // the server's --max-len, from /v1/models
  expect(await page.locator('#loss-chart polyline.train').getAttribute('points')).toMatch(/^(\S+,\S+ ){15}\S+,\S+$/);
  expect(await page.locator('#loss-chart circle.val-dot').count()).toBe(16);
  expect(await page.locator('#loss-chart text[text-anchor="middle"]').first().textContent()).toBe('0');

  // the sample streams in: its text shows while the rest of the answer is held back
  await page.selectOption('#model', 'gru');
  await page.fill('#prime', 'ROMEO:');
  await page.fill('#len', '2000');
  await breakNextStream(page, 'held');
  await page.click('#generate');
  await page.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent!.length > 0);
  expect(await page.locator('#sample-status').textContent()).toBe('sampling…');
  await page.evaluate(() => (window as unknown as { release: () => void }).release());
  await page.waitForFunction(() => /2,000 tokens in/.test(document.querySelector('#sample-status')!.textContent!));
  expect(await page.locator('#sample .prime').textContent()).toBe('ROMEO:');

  // the streaming sample keeps its newest text in sight, until the reader scrolls up: then it keeps their place
  await page.fill('#prime', 'The\n'.repeat(40));
  await breakNextStream(page, 'held');
  await page.click('#generate');
  await page.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent!.length > 0);
  const belowSight = () => page.$eval('#sample', (box) => box.scrollHeight - box.scrollTop - box.clientHeight);
  expect(await belowSight()).toBeLessThan(2); // at the bottom, to a pixel's rounding
  await page.$eval('#sample', (box) => new Promise<void>((resolve) => {
    box.addEventListener('scroll', () => resolve(), { once: true });
    box.scrollTop = 0;
  }));
  await page.evaluate(() => (window as unknown as { release: () => void }).release());
  await page.waitForFunction(() => /2,000 tokens in/.test(document.querySelector('#sample-status')!.textContent!));
  expect(await page.$eval('#sample', (box) => box.scrollTop)).toBe(0);
  expect(await belowSight()).toBeGreaterThan(100);

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
  const colours = await page.$$eval('#scored > span', (spans) => spans.map((s) => getComputedStyle(s).backgroundColor));
  expect(colours).toHaveLength(text.length + 1); // its characters and the closing <EOS>
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
  const shades = await page.$$eval('#units span', (spans) => spans.map((s) => getComputedStyle(s).backgroundColor));
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
  expect(await page.locator('#scored > span').count()).toBe(8); // seven tokens and the closing <EOS>
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

/**
 * `use` run on a fresh page of the server, 1280 wide, in the system's light or dark colour
 * scheme, which must raise no uncaught error; the page closed after.
 */
async function onFreshPage(use: (at: Page) => Promise<void>, colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
  const pageErrors: string[] = [];
  const at = await context.newPage();
  try {
    await at.setViewportSize({ width: 1280, height: 800 });
    await at.emulateMedia({ colorScheme });
    at.on('pageerror', (err) => pageErrors.push(err.message));
    await at.goto(server.url);
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 3);
    await use(at);
    expect(pageErrors).toEqual([]);
  } finally {
    await at.close();
  }
}

/** The page loaded again with the server's /v1/models answer as `edit` changes it, its models listed. */
async function reloadWithModels<Answer>(at: Page, edit: (answer: Answer) => void): Promise<void> {
  await at.route('**/v1/models', async (route) => {
    const response = await route.fetch();
    const answer = await response.json() as Answer;
    edit(answer);
    await route.fulfill({ response, json: answer });
  });
  await at.reload();
  await at.waitForFunction(() => document.querySelectorAll('#model option').length === 3);
}

/** The sample's status once it no longer says it is sampling. */
async function sampleOutcome(at: Page): Promise<string> {
  await at.waitForFunction(() => !['', 'waiting for the server…', 'sampling…'].includes(document.querySelector('#sample-status')!.textContent!));
  return (await at.locator('#sample-status').textContent())!;
}

/**
 * Makes the page's next /v1/generate stream answer as `mode` says: cut off after its first
 * piece (`lost`), whole but without its done line (`no-done`), or its first piece and then
 * nothing until `window.release()` lets the rest through or the page aborts the request (`held`).
 */
async function breakNextStream(at: Page, mode: 'lost' | 'no-done' | 'held'): Promise<void> {
  await at.evaluate((how) => {
    const w = window as unknown as { fetch: typeof fetch; release: () => void };
    const realFetch = w.fetch.bind(w);
    w.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      if (!String(input).endsWith('/v1/generate')) return response;
      w.fetch = realFetch;
      const answer = (body: ReadableStream<Uint8Array>) => new Response(body, { status: response.status, headers: response.headers });
      if (how === 'held') {
        const reader = response.body!.getReader();
        const released = new Promise<boolean>((resolve) => {
          w.release = () => resolve(true);
          init!.signal!.addEventListener('abort', () => resolve(false));
        });
        let sent = false;
        return answer(new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent && !await released) {
              controller.error(new DOMException('stopped', 'AbortError'));
              return;
            }
            const { done, value } = await reader.read();
            sent = true;
            if (done) controller.close();
            else controller.enqueue(value);
          },
        }));
      }
      const lines = (await response.text()).split('\n').filter((line) => line !== '' && !line.includes('"done":true'));
      const encoder = new TextEncoder();
      return answer(new ReadableStream<Uint8Array>({
        start(controller) {
          if (how === 'lost') {
            controller.enqueue(encoder.encode(`${lines[0]}\n`));
            controller.error(new TypeError('network error'));
          } else {
            controller.enqueue(encoder.encode(lines.map((line) => `${line}\n`).join('')));
            controller.close();
          }
        },
      }));
    };
  }, mode);
}

it('names each heading by itself, its subtitle shown beside it but no part of its name', () => onFreshPage(async (at) => {
  const headings = (await at.locator('body').ariaSnapshot()).split('\n').flatMap((line) => /heading "(.*)" \[level=\d\]/.exec(line)?.[1] ?? []);
  expect(headings).toEqual(['rnn playground', 'Sample', 'Surprise', 'Hidden units', 'Training loss']);
  const beside = await at.$$eval('h2 + small', (subtitles) => subtitles.map((s) => [s.textContent, s.getBoundingClientRect().top - s.previousElementSibling!.getBoundingClientRect().top]));
  expect(beside.map(([text]) => text)).toEqual([
    'each token coloured by −log p: how surprised the model was', "the Surprise box's text, coloured by one unit's value after each token", 'nats per token, by tokens seen',
  ]);
  // on the heading's line, as when it was part of it
  for (const [, below] of beside) expect(Math.abs(below as number)).toBeLessThan(5);
}));

it('gives a token that draws nothing (a lone zero-width joiner, a lone mark) width of its own, so its colour and focus ring show', () => onFreshPage(async (at) => {
  await at.fill('#score-text', '\u200dThe\u200bend\n\u0301a');
  await at.click('#score');
  await at.waitForFunction(() => document.querySelectorAll('#scored span').length > 0);
  const widths = await at.$$eval('#scored span', (spans) => spans.map((s) => [s.textContent, Math.round(s.getBoundingClientRect().width)] as const));
  const unseen = widths.filter(([text]) => /^[\p{Cf}\p{Mn}]+$/u.test(text!));
  expect(unseen.map(([text]) => text)).toEqual(['\u200d', '\u200b', '\u0301']);
  for (const [, width] of unseen) expect(width).toBeGreaterThanOrEqual(4); // the 2 px padding of .zero-width on either side
}));

it('draws a combining accent on its letter in the scored text and the unit\'s, the accent still a token of its own with its colour, focus and tip', () => onFreshPage(async (at) => {
  const text = 'cafe\u0301 Zoe\u0308';
  await at.fill('#score-text', text);
  await at.click('#score');
  await at.waitForFunction(() => document.querySelectorAll('#scored span').length > 0);
  await at.click('#most-active');
  await at.waitForFunction(() => document.querySelectorAll('#units span').length > 0);
  for (const box of ['#scored', '#units']) {
    expect(await at.locator(box).textContent()).toBe(text);
    // the letter's box, drawn with its accent and again with the accent's text taken away: the accent drawn there changes it
    const letter = await at.$eval(box, (view) => {
      const range = document.createRange();
      range.selectNodeContents([...view.querySelectorAll<HTMLElement>('[data-token]')].find((span) => span.dataset.text === 'e')!.firstChild!);
      const { x, y, width, height } = range.getBoundingClientRect();
      return { x, y, width, height };
    });
    const withAccent = await at.screenshot({ clip: letter });
    await at.$eval(box, (view) => {
      [...view.querySelectorAll<HTMLElement>('[data-token]')].find((span) => span.dataset.text === '\u0301')!.firstChild!.textContent = '';
    });
    expect((await at.screenshot({ clip: letter })).equals(withAccent)).toBe(false);
  }
  await at.click('#score');
  await at.waitForFunction(() => document.querySelector('#scored')!.textContent === 'cafe\u0301 Zoe\u0308');
  // the accent's own colour shows beside its letter, and the arrow keys reach it, opening its tip
  const accents = await at.$$eval('#scored [data-token]', (spans) => spans.filter((s) => /^\p{Mn}$/u.test(s.textContent!)).map((s) => s.getBoundingClientRect().width));
  expect(accents).toHaveLength(2);
  for (const width of accents) expect(width).toBeGreaterThanOrEqual(4);
  await at.focus('#scored [data-token]');
  for (let k = 0; k < 4; k += 1) await at.keyboard.press('ArrowRight');
  expect(await at.evaluate(() => (document.activeElement as HTMLElement).dataset.text)).toBe('\u0301');
  await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
  expect(await at.locator('#tip .head').textContent()).toMatch(/^"\u0301" \(<UNK>\) {2}p = /);
  await at.keyboard.press('ArrowRight');
  expect(await at.evaluate(() => (document.activeElement as HTMLElement).dataset.text)).toBe(' ');
}));

it('marks each <EOS> that writes no text (between two sentences of a word-level --docs sentence model, the closing one), so that it shows and opens its tip', async () => {
  const run = await rnnIn(scratch.dir, [
    'train', 'corpus.txt', '--level', 'word', '--docs', 'sentence', '--vocab-size', '400', ...TINY_TRAINING, '--workers', '1', '--max-steps', '10', '--out', 'sentences',
  ]);
  expect(run.status, run.stderr).toBe(0);
  const sentences = await serve(scratch.dir, ['--checkpoint', `sentences=${join(scratch.dir, 'sentences', 'latest.json')}`]);
  const at = await context.newPage();
  try {
    await at.setViewportSize({ width: 1280, height: 800 });
    await at.goto(sentences.url);
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 1);
    // the model line says how the model cuts a text it reads, where it is not a document a file
    expect(await at.locator('#model-info').textContent()).toMatch(/ · word level · documents: sentences · /);
    const text = 'The people of the United States. The war is over.';
    await at.fill('#score-text', text);
    await at.click('#score');
    await at.waitForFunction(() => document.querySelectorAll('#scored span').length > 0);
    const scored = await at.$$eval('#scored > span', (spans) => spans.map((s) => {
      const { token, text } = JSON.parse((s as HTMLElement).dataset.tip!) as { token: string; text: string };
      return { token, text, width: s.getBoundingClientRect().width, mark: getComputedStyle(s, '::before').content };
    }));
    // every <EOS> a token of the page's, the one between the sentences right after its full stop
    expect(scored.map((t) => (t.token === '<EOS>' ? t.token : t.text.trim()))).toEqual(['The', 'people', 'of', 'the', 'United', 'States', '.', '<EOS>', 'The', 'war', 'is', 'over', '.', '<EOS>']);
    for (const end of scored.filter((t) => t.token === '<EOS>')) {
      expect(end.text).toBe('');
      expect(end.mark).not.toBe('none');
      expect(end.width).toBeGreaterThanOrEqual(8);
    }
    // the mark is drawn, not written: the text shown is the text scored
    expect(await at.locator('#scored').textContent()).toBe(text);
    await at.hover('#scored span:nth-child(8)');
    await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
    expect(await at.locator('#tip .head').textContent()).toMatch(/^<EOS> {2}p = /);

    // the unit's view reads the <EOS> between the sentences too, and marks it the same way
    await at.click('#most-active');
    await at.waitForFunction(() => document.querySelectorAll('#units span').length > 0);
    const units = await at.$$eval('#units > span', (spans) => spans.map((s) => [s.getAttribute('data-text'), s.getBoundingClientRect().width] as const));
    expect(units).toHaveLength(13);
    expect(units[7]![0]).toBe('');
    expect(units[7]![1]).toBeGreaterThanOrEqual(8);
    await at.hover('#units span:nth-child(8)');
    await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
    expect(await at.locator('#tip .head').textContent()).toMatch(/^unit \d+ after <EOS>: -?[\d.]+$/);
  } finally {
    await at.close();
    await sentences.stop();
  }
});

/**
 * `use` run on a page of a server of makeEosModel's model alone (characters a to d, each line a
 * document, <EOS> often drawn), 1280 wide; the page and the server closed after.
 */
async function onEosModelPage(use: (at: Page, path: string) => Promise<void>): Promise<void> {
  const path = makeEosModel(scratch.dir);
  const eos = await serve(scratch.dir, ['--checkpoint', `eos=${path}`]);
  const at = await context.newPage();
  try {
    await at.setViewportSize({ width: 1280, height: 800 });
    await at.goto(eos.url);
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 1);
    await use(at, path);
  } finally {
    await at.close();
    await eos.stop();
  }
}

it('shows each <EOS> a sample draws as the tag a scored <EOS> shows, before the line break it writes, and copies the text alone', () => onEosModelPage(async (at, path) => {
  await at.fill('#prime', 'ab');
  await at.fill('#len', '60');
  await at.fill('#seed', '5');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^60 tokens in /);
  const pieces = await collect(loadModel(path).generatePieces({ prime: 'ab', len: 60, seed: 5, temperature: 0.8, topP: 0.95 }));
  const text = pieces.map((p) => p.text).join('');
  expect(pieces.filter((p) => p.eos).length).toBeGreaterThan(5);

  // the box, node by node: each drawn <EOS> a tag of no text before its line break
  const shown = await at.$eval('#sample .drawn', (drawn) => [...drawn.childNodes]
    .map((n) => (n instanceof HTMLElement && n.textContent === '' ? `[${n.className}]` : n.textContent)).join(''));
  expect(shown).toBe(pieces.map((p) => (p.eos ? `[end]${p.text}` : p.text)).join(''));
  // drawn as a scored <EOS>'s tag: the closing one of a scored text
  await at.fill('#score-text', 'abc');
  await at.click('#score');
  await at.waitForFunction(() => document.querySelector('#scored .end') !== null);
  const look = (selector: string) => at.$eval(selector, (e) => {
    const { content, font, border, padding, width } = getComputedStyle(e, '::before');
    return { content, font, border, padding, width, shown: e.getBoundingClientRect().width };
  });
  const tag = await look('#sample .end');
  expect(tag).toEqual(await look('#scored .end'));
  expect(tag.content).toBe(EOS_TAG);
  expect(tag.shown).toBeGreaterThanOrEqual(8);

  // the tag is no part of the text: Use the sample takes the prime and the sample, and a selection of the box
  // copies what it would without the tags
  await at.click('#use-sample');
  expect(await at.inputValue('#score-text')).toBe(`ab${text}`);
  expect((await contrastFaults(at)).faults).toEqual([]);
  const copied = await at.evaluate(() => {
    const copy = () => {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('sample')!);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
      return getSelection()!.toString();
    };
    const withTags = copy();
    for (const tag of document.querySelectorAll('#sample .end')) tag.remove();
    return { withTags, without: copy() };
  });
  expect(copied.withTags).toBe(copied.without);
  expect(copied.withTags).toMatch(/^ab[abcd\n]+$/);
}));

it('names each token alike in the scored text and the unit\'s: every <EOS> a tag, an <UNK> by the text it stands for', () => onEosModelPage(async (at) => {
  // three lines, three documents: an <EOS> between each two, writing the line break, and the closing one
  await at.fill('#score-text', 'ab\ncx\nba');
  await at.click('#score');
  await at.waitForFunction(() => document.querySelectorAll('#scored > span').length === 9);
  const tokens = (box: string) => at.$$eval(`${box} > span`, (spans) => spans.map((s) => ({
    token: (s as HTMLElement).dataset.token, tag: s.classList.contains('end'), mark: getComputedStyle(s, '::before').content,
  })));
  const scored = await tokens('#scored');
  expect(scored.map((t) => t.token)).toEqual(['a', 'b', '<EOS>', 'c', '<UNK>', '<EOS>', 'b', 'a', '<EOS>']);
  for (const t of scored) expect(t.tag).toBe(t.token === '<EOS>');
  for (const t of scored.filter((s) => s.tag)) expect(t.mark).toBe(EOS_TAG);
  await at.click('#show-unit');
  await at.waitForFunction(() => document.querySelectorAll('#units > span').length === 8);
  expect(await tokens('#units')).toEqual(scored.slice(0, -1));

  // each tip names its token as the other view's does
  const head = async (span: string) => {
    await at.hover(span);
    await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
    return (await at.locator('#tip .head').textContent())!;
  };
  for (const [nth, name] of [[3, '<EOS>'], [5, '"x" (<UNK>)'], [4, '"c"']] as const) {
    expect(/^(.*) {2}p = /.exec(await head(`#scored > span:nth-child(${nth})`))?.[1]).toBe(name);
    expect(/^unit \d+ after (.*): -?[\d.]+$/.exec(await head(`#units > span:nth-child(${nth})`))?.[1]).toBe(name);
  }
}));

it('draws a line break\'s ↵ and an <EOS>\'s tag in both views, each copied and read as the text alone', () => onEosModelPage(async (at) => {
  // a blank line and a line break: two <EOS> between documents, writing them, then the closing one
  const text = 'ab\n\ncx\nba';
  await at.fill('#score-text', text);
  await at.click('#score');
  await at.waitForFunction(() => document.querySelectorAll('#scored > span').length === 9);
  await at.click('#show-unit');
  await at.waitForFunction(() => document.querySelectorAll('#units > span').length === 8);
  for (const box of ['#scored', '#units']) {
    const shown = await at.$eval(box, (e) => {
      const range = document.createRange();
      range.selectNodeContents(e);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
      const drawn = (selector: string) => [...e.querySelectorAll(selector)].map((m) => getComputedStyle(m, '::before').content);
      return { copied: getSelection()!.toString(), read: (e as HTMLElement).innerText, breaks: drawn('.newline'), tags: drawn('.end') };
    });
    expect(shown.copied).toBe(text);
    expect(shown.read).toBe(text);
    // each line break's ↵, each <EOS>'s tag, drawn by the style sheet
    expect(shown.breaks).toEqual(['"↵"', '"↵"', '"↵"']);
    expect(shown.tags).toEqual(Array<string>(box === '#scored' ? 3 : 2).fill(EOS_TAG));
  }
}));

/**
 * The <EOS> tags in `box` that start a line with nothing of the text before them: a tag's top below the top of
 * the last line box of the last character written before it in the box, where that character is not a line
 * break (after one, a tag starts its line rightly). Each is named by the line of text it ends.
 */
function strandedTags(at: Page, box: string): Promise<string[]> {
  return at.$eval(box, (e) => [...e.querySelectorAll('.end')].flatMap((tag) => {
    const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    walker.currentNode = tag;
    let before = walker.previousNode() as Text | null;
    while (before !== null && before.data === '') before = walker.previousNode() as Text | null;
    if (before === null || before.data.endsWith('\n')) return [];
    const character = document.createRange();
    character.setStart(before, before.data.length - 1);
    character.setEnd(before, before.data.length);
    const lines = character.getClientRects();
    if (Math.round(tag.getClientRects()[0]!.top) <= Math.round(lines[lines.length - 1]!.top)) return [];
    const written = document.createRange();
    written.setStart(e, 0);
    written.setEndBefore(tag);
    return [JSON.stringify(written.toString().split('\n').at(-1))];
  }));
}

it('keeps an <EOS>\'s tag on the line of the text before it at a phone\'s width, after a space and after a word wider than the box', () => onEosModelPage(async (at) => {
  // lines of every length about the box's width: of words, each ending in a letter or a mark, then in a space;
  // then single words, the longer ones wider than the box; some end where the box wraps
  const text = [
    ...Array.from({ length: 24 }, (_, k) => `${'abab '.repeat(12).slice(0, 27 + k)}${'b.?'[k % 3]}`),
    ...Array.from({ length: 24 }, (_, k) => `${'abab '.repeat(12).slice(0, 27 + k)} `),
    ...Array.from({ length: 12 }, (_, k) => `${'ab'.repeat(14 + k)}c`),
  ].join('\n');
  // the sample box draws the same text, each line break a drawn <EOS>
  const pieces = [...text].map((c) => (c === '\n' ? { text: c, eos: true } : { text: c }));
  const stream = [...pieces, { done: true, tokens: pieces.length, finish: 'length', seed: 1, unknownTokens: 0 }].map((event) => `${JSON.stringify(event)}\n`).join('');
  await at.route('**/v1/generate', (route) => route.fulfill({ contentType: 'application/x-ndjson', body: stream }));
  await at.fill('#prime', '');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(new RegExp(`^${pieces.length.toLocaleString('en-US')} tokens in `));
  await at.fill('#score-text', text);
  await at.click('#score');
  await at.waitForFunction((n) => document.querySelectorAll('#scored > span').length === n, pieces.length + 1);
  await at.click('#show-unit');
  await at.waitForFunction((n) => document.querySelectorAll('#units > span').length === n, pieces.length);
  const stranded = new Map<string, string[]>(), widened = new Map<string, number>();
  for (const width of [375, 320]) {
    await at.setViewportSize({ width, height: 740 });
    for (const box of ['#sample', '#scored', '#units']) {
      expect(await at.$eval(box, (e) => e.textContent)).toBe(text);
      stranded.set(`${box} at ${width} px`, await strandedTags(at, box));
      // what a tag is held to widens no box: it scrolls down only
      widened.set(`${box} at ${width} px`, await at.$eval(box, (e) => e.scrollWidth - e.clientWidth));
    }
  }
  expect(Object.fromEntries(stranded)).toEqual(Object.fromEntries([...stranded.keys()].map((k) => [k, []])));
  expect(Object.fromEntries(widened)).toEqual(Object.fromEntries([...widened.keys()].map((k) => [k, 0])));
}));

it('is usable from the keyboard alone: Enter submits, the focus shows, every control is named, the scored text is one tab stop', () => onFreshPage(async (at) => {
  const unnamed = await at.$$eval('input, select, textarea, button', (controls) => controls
    .filter((c) => ((c as HTMLInputElement).labels?.length ?? 0) === 0 && !c.getAttribute('aria-label') && (c.tagName !== 'BUTTON' || c.textContent!.trim() === ''))
    .map((c) => c.id));
  expect(unnamed).toEqual([]);
  // the boxes of text carry their names (a <pre>'s own role takes none); what speaks up by itself is the model's line (a
  // token refused) and the three status lines, not the sliders' numbers, which their sliders already say
  for (const name of ['sample', 'the text scored: arrow keys move from token to token', 'the text coloured by the unit: arrow keys move from token to token']) {
    expect(await at.getByRole('group', { name, exact: true }).count()).toBe(1);
  }
  expect(await at.getByRole('status').evaluateAll((live) => live.map((l) => l.id))).toEqual(['model-info', 'sample-status', 'score-status', 'units-status']);

  // Tab from the model to the prime and on; the focused control shows a ring
  await at.focus('#model');
  await at.keyboard.press('Tab');
  expect(await at.evaluate(() => document.activeElement!.id)).toBe('prime');
  expect(await at.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');

  // Enter in a field draws a sample; Ctrl+Enter in the prime too, where Enter is a new line
  await at.selectOption('#model', 'tiny');
  await at.fill('#len', '20');
  await at.focus('#len');
  await at.keyboard.press('Enter');
  expect(await sampleOutcome(at)).toMatch(/^20 tokens in /);
  await at.evaluate(() => (document.querySelector('#sample-status')!.textContent = ''));
  await at.fill('#prime', 'The');
  await at.focus('#prime');
  await at.keyboard.press('Control+Enter');
  expect(await sampleOutcome(at)).toMatch(/^20 tokens in /);
  expect(await at.inputValue('#prime')).toBe('The');

  // Generate and Stop pressed from the keyboard disable themselves: the focus moves to the one to press next, not to nowhere
  await at.fill('#len', '2000');
  await at.fill('#seed', '');
  await breakNextStream(at, 'held');
  await at.focus('#generate');
  await at.keyboard.press('Enter');
  await at.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent !== '');
  expect(await at.evaluate(() => document.activeElement!.id)).toBe('stop');
  await at.keyboard.press('Space');
  // a sample stopped before its end still names its seed (drawn by the page where the field is empty): it can be drawn again
  const stopped = await sampleOutcome(at);
  expect(stopped).toMatch(/^stopped · (1 character|\d{1,3}(,\d{3})* characters) so far · seed \d+$/);
  expect(Number(stopped.split('seed ')[1])).toBeLessThanOrEqual(0xffffffff);
  expect(await at.evaluate(() => document.activeElement!.id)).toBe('generate');

  // Ctrl+Enter scores; the scored text is one stop, its tokens (its 27 characters and the closing <EOS>) reached by the arrow keys
  await at.fill('#score-text', 'The people of this country.');
  await at.focus('#score-text');
  await at.keyboard.press('Control+Enter');
  await at.waitForFunction(() => document.querySelectorAll('#scored > span').length === 28);
  expect(await at.locator('#scored [tabindex="0"]').count()).toBe(1);
  await at.focus('#use-sample');
  await at.keyboard.press('Tab');
  expect(await at.evaluate(() => document.activeElement!.textContent)).toBe('T');
  await at.keyboard.press('ArrowRight');
  await at.keyboard.press('ArrowRight');
  expect(await at.evaluate(() => document.activeElement!.textContent)).toBe('e');
  await expect.poll(() => at.locator('#tip .head').textContent()).toMatch(/^"e" {2}p = /);
  await at.keyboard.press('End');
  await expect.poll(() => at.locator('#tip .head').textContent()).toMatch(/^<EOS> {2}p = /);
  const onClosingEos = () => at.evaluate(() => document.activeElement === document.querySelector('#scored span:last-child.end'));
  expect(await onClosingEos()).toBe(true);
  await at.keyboard.press('ArrowLeft');
  expect(await at.evaluate(() => document.activeElement!.textContent)).toBe('.');
  await at.keyboard.press('End');
  // Escape closes the tip, the focus staying on its token
  await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
  await at.keyboard.press('Escape');
  expect(await at.locator('#tip').isHidden()).toBe(true);
  expect(await onClosingEos()).toBe(true);
  await at.keyboard.press('Tab');
  expect(await at.evaluate(() => document.activeElement!.id)).toBe('layer');
  await at.keyboard.press('Shift+Tab');
  expect(await onClosingEos()).toBe(true);

  // Enter in the unit's field shows it
  await at.fill('#unit', '3');
  await at.focus('#unit');
  await at.keyboard.press('Enter');
  await at.waitForFunction(() => document.querySelector('#units')!.getAttribute('data-unit') === '3');
  // the unit's text is one tab stop too, each token's tip its value
  expect(await at.locator('#units [tabindex="0"]').count()).toBe(1);
  await at.focus('#most-active');
  await at.keyboard.press('Tab');
  expect(await at.evaluate(() => document.activeElement!.textContent)).toBe('T');
  await expect.poll(() => at.locator('#tip .head').textContent()).toMatch(/^unit 3 after "T": -?\d\.\d{3}$/);
  await at.keyboard.press('ArrowRight');
  expect(await at.evaluate(() => document.activeElement!.textContent)).toBe('h');
  await expect.poll(() => at.locator('#tip .head').textContent()).toMatch(/^unit 3 after "h": /);
}));

/** The accessible description Chromium gives the button named `name`: what a screen reader reads after its name and state. */
async function buttonDescription(at: Page, name: string): Promise<string> {
  const cdp = await at.context().newCDPSession(at);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const buttons = nodes.filter((node) => !node.ignored && node.role?.value === 'button' && node.name?.value === name);
    expect(buttons).toHaveLength(1);
    return String(buttons[0]!.description?.value ?? '');
  } finally {
    await cdp.detach();
  }
}

it('says why Generate or Stop is greyed out, and Escape stops a streaming sample as Stop does, once an open tip is closed', () => onFreshPage(async (at) => {
  expect(await buttonDescription(at, 'Stop')).toMatch(/^no sample is on its way: /);
  expect(await buttonDescription(at, 'Generate')).toBe('');
  await at.fill('#score-text', 'The people.');
  await at.click('#score');
  await at.waitForFunction(() => document.querySelectorAll('#scored > span').length > 0);

  await at.fill('#len', '2000');
  await breakNextStream(at, 'held');
  await at.click('#generate');
  await at.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent !== '');
  expect(await buttonDescription(at, 'Generate')).toMatch(/^a sample is on its way: Stop or Escape ends it$/);
  expect(await buttonDescription(at, 'Stop')).toBe('');

  // the first Escape closes the tip open on a token, the sample going on; the next stops the sample
  await at.focus('#scored span:nth-child(2)');
  await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
  await at.keyboard.press('Escape');
  expect(await at.locator('#tip').isHidden()).toBe(true);
  expect(await at.locator('#sample-status').textContent()).toBe('sampling…');
  await at.keyboard.press('Escape');
  expect(await sampleOutcome(at)).toMatch(/^stopped · (1 character|\d{1,3}(,\d{3})* characters) so far · seed \d+$/);
  expect(await buttonDescription(at, 'Stop')).toMatch(/^no sample is on its way: /);
  expect(await buttonDescription(at, 'Generate')).toBe('');
}));

it('shows each error as a sentence beside the control it names, and stays usable after it', () => onFreshPage(async (at) => {
  await at.selectOption('#model', 'tiny');
  await at.click('#use-sample');
  expect(await at.locator('#score-status').textContent()).toBe('nothing sampled yet: Generate one first');

  // a len over --max-len: the server's line, the tokens field marked and focused; typing clears the mark
  await at.fill('#len', '5000');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toBe("len: must be at most 2500 (the server's --max-len) (got 5000)");
  expect(await at.locator('#sample-status').getAttribute('class')).toContain('error');
  // an error is read out at once, the line's other news when the reader is idle
  expect(await at.locator('#sample-status').getAttribute('aria-live')).toBe('assertive');
  expect(await at.locator('#len').getAttribute('aria-invalid')).toBe('true');
  expect(await at.evaluate(() => document.activeElement!.id)).toBe('len');
  await at.fill('#len', '');
  expect(await at.locator('#len').getAttribute('aria-invalid')).toBeNull();
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^200 tokens in /); // an empty field: the server's default, not "got 0"
  await at.fill('#len', '30');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^30 tokens in /);
  expect(await at.locator('#sample-status').getAttribute('class')).not.toContain('error');
  expect(await at.locator('#sample-status').getAttribute('aria-live')).toBe('polite');

  // what the browser cannot read as a number it gives as empty: said so, not the server's default or the most active units
  const sampled = await at.locator('#sample').textContent();
  await at.fill('#len', '');
  await at.focus('#len');
  await at.keyboard.type('1e');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toBe("tokens: not a number: type one, or empty the field for the server's default");
  expect(await at.locator('#len').getAttribute('aria-invalid')).toBe('true');
  expect(await at.evaluate(() => document.activeElement!.id)).toBe('len');
  expect(await at.locator('#sample').textContent()).toBe(sampled); // nothing asked of the server
  await at.fill('#len', '30');
  await at.fill('#score-text', 'The people.');
  await at.fill('#unit', '');
  await at.focus('#unit');
  await at.keyboard.type('3e');
  await at.click('#show-unit');
  await at.waitForFunction(() => document.querySelector('#units-status')!.textContent !== '');
  expect(await at.locator('#units-status').textContent()).toBe('unit: not a number: type one, or empty the field for the most active units');
  expect(await at.locator('#unit-picks button').count()).toBe(0);
  // a card's own error keeps its mark while another card asks of the same control: the scored text's, the unit still wrong
  await at.fill('#score-text', 'x'.repeat(70_000));
  await at.click('#score');
  await at.waitForFunction(() => /^the body is \d+ bytes/.test(document.querySelector('#score-status')!.textContent!));
  expect(await at.locator('#score-text').getAttribute('aria-invalid')).toBe('true');
  await at.click('#show-unit');
  expect(await at.locator('#units-status').textContent()).toMatch(/^unit: not a number/);
  expect(await at.locator('#score-text').getAttribute('aria-invalid')).toBe('true');
  expect(await at.locator('#score-text').getAttribute('aria-describedby')).toBe('score-status');

  // a prime over --max-body (413): the prime is the field
  await at.fill('#prime', 'x'.repeat(70_000));
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^the body is \d+ bytes; the server takes at most 65536 \(its --max-body\)$/);
  expect(await at.locator('#prime').getAttribute('aria-invalid')).toBe('true');
  expect(await at.locator('#sample').textContent()).toBe('');
  await at.fill('#prime', 'The');

  // a unit the layer does not have; while the server is asked, the status says so, the last error gone
  let answerUnits!: () => void;
  const unitsHeld = new Promise<void>((resolve) => (answerUnits = resolve));
  await at.route('**/v1/activations', async (route) => {
    await unitsHeld;
    await route.continue();
  }, { times: 1 });
  await at.fill('#score-text', 'The people.');
  await at.fill('#unit', '9999');
  await at.click('#show-unit');
  expect(await at.locator('#units-status').textContent()).toBe('waiting for the server…');
  answerUnits();
  await at.waitForFunction(() => !['', 'waiting for the server…'].includes(document.querySelector('#units-status')!.textContent!));
  expect(await at.locator('#units-status').textContent()).toBe('unit: must be an integer from 0 to 63 (got 9999)');
  expect(await at.locator('#unit').getAttribute('aria-invalid')).toBe('true');

  // the connection lost mid-stream, and a stream that ends without its done line: said so, the page ready again
  await breakNextStream(at, 'lost');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^the connection to the server was lost after \d+ characters \(network error\): is rnn serve still running\?$/);
  expect(await at.locator('#generate').isEnabled()).toBe(true);
  expect(await at.locator('#stop').isDisabled()).toBe(true);
  await breakNextStream(at, 'no-done');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^the server's answer ended early, after \d+ characters, without saying how the sample ended$/);

  // another model chosen while a sample streams: the sample stops, and nothing of it stays
  await at.fill('#len', '2000');
  await breakNextStream(at, 'held');
  await at.click('#generate');
  await at.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent !== '');
  await at.selectOption('#model', 'gru');
  await at.waitForFunction(() => !(document.querySelector('#generate') as HTMLButtonElement).disabled);
  expect(await at.locator('#sample').textContent()).toBe('');
  expect(await at.locator('#sample-status').textContent()).toBe('');

  // another model chosen while a text is scored: the request is dropped, its answer never shown as the new model's
  await at.fill('#score-text', 'The king.');
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await at.route('**/v1/score', async (route) => {
    await held;
    await route.continue().catch(() => undefined);
  }, { times: 1 });
  const dropped = at.waitForEvent('requestfailed', (request) => request.url().endsWith('/v1/score'));
  await at.click('#score');
  expect(await at.locator('#score-status').textContent()).toBe('waiting for the server…');
  await at.selectOption('#model', 'tiny');
  expect((await dropped).failure()?.errorText).toMatch(/abort/i);
  release();
  expect(await at.locator('#scored span').count()).toBe(0);
  expect(await at.locator('#score-status').textContent()).toBe('');
}));

it('shows the most active units for an empty unit field, as the Most active button does, not unit 0', () => onFreshPage(async (at) => {
  await at.fill('#score-text', 'The people.');
  await at.fill('#unit', '');
  await at.click('#show-unit');
  await at.waitForFunction(() => document.querySelector('#units')!.getAttribute('data-unit') !== null);
  expect(await at.locator('#unit-picks button').count()).toBe(8);
  const top = await at.locator('#unit-picks button').first().textContent();
  expect(await at.locator('#unit-picks button[aria-pressed="true"]').textContent()).toBe(top);
  expect(`unit ${await at.locator('#units').getAttribute('data-unit')}`).toBe(top);
  expect(`unit ${await at.inputValue('#unit')}`).toBe(top);
  expect(await at.locator('#units-status').textContent()).toBe('');
}));

it('keeps the most active units only while the unit box shows their text and layer, a pick showing its own layer', () => onFreshPage(async (at) => {
  const units = async (button: string) => {
    await at.click(button);
    await at.waitForFunction(() => document.querySelector('#units-status')!.textContent !== 'waiting for the server…');
  };
  await at.fill('#score-text', 'The people.');
  await units('#most-active');
  expect(await at.locator('#unit-picks button').count()).toBe(8);
  // another unit of the same text and layer: the picks stay, to go back to
  await at.fill('#unit', '3');
  await units('#show-unit');
  expect(await at.locator('#unit-picks button').count()).toBe(8);
  // a unit of another text: the picks, found for the first, go (a pick would paint the first text again)
  await at.fill('#score-text', 'The war is over.');
  await units('#show-unit');
  expect(await at.locator('#units').textContent()).toBe('The war is over.');
  expect(await at.locator('#unit-picks button').count()).toBe(0);
  // a pick of layer 0 clicked while the layer box says 1: it shows layer 0's unit, and the box says so
  await units('#most-active');
  await at.selectOption('#layer', '1');
  await at.click('#unit-picks button:nth-child(2)');
  expect(await at.inputValue('#layer')).toBe('0');
  expect(await at.locator('#units').textContent()).toBe('The war is over.');
}));

it('says so where the model reads no token of the text (white space alone at the word level), rather than leaving the unit\'s box empty', () => onFreshPage(async (at) => {
  await at.selectOption('#model', 'words');
  await at.fill('#score-text', ' \t  ');
  for (const button of ['#show-unit', '#most-active']) {
    await at.click(button);
    await at.waitForFunction(() => document.querySelector('#units-status')!.textContent !== 'waiting for the server…');
    expect(await at.locator('#units-status').textContent()).toBe('nothing to show: the model reads no token in this text (white space alone makes none for it)');
    expect(await at.locator('#units span, #unit-picks button').count()).toBe(0);
  }
}));

for (const colorScheme of ['light', 'dark'] as const) {
  it(`keeps every text at 4.5:1 contrast, and each focus ring, error mark and chart line at 3:1, in the ${colorScheme} scheme`, () => onFreshPage(async (at) => {
    const faults = new Set<string>();
    const look = async () => {
      const seen = await contrastFaults(at);
      for (const fault of seen.faults) faults.add(fault);
      return seen;
    };
    await at.selectOption('#model', 'gru');
    // text the model finds surprising: some tokens at the reddest colour (8 nats, the page's SURPRISE_MAX), and a unit near ±1
    await at.fill('#score-text', 'Qzx#~ jvW@ kq%^ ROMEO: the king ZZq|{} xj');
    await at.click('#score');
    await at.waitForFunction(() => document.querySelectorAll('#scored span').length > 0);
    const surprises = await at.$$eval('#scored > span', (spans) => spans.map((s) => -JSON.parse((s as HTMLElement).dataset.tip!).logProb as number));
    expect(Math.max(...surprises)).toBeGreaterThan(8);
    await at.click('#most-active');
    await at.waitForFunction(() => document.querySelectorAll('#units span').length > 0);
    const values = await at.$$eval('#units span', (spans) => spans.map((s) => Number((s as HTMLElement).dataset.value)));
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.9);
    await at.focus('#scored span:nth-child(3)');
    await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
    // the tokens of both boxes, the tip's rows, and the disabled Stop among what was seen
    expect((await look()).texts).toBeGreaterThan(2 * surprises.length + 5);

    // the focus ring of each control, the header's, a token's and the unit picks' included, Tab by Tab
    const ringed = new Set<string>();
    await at.focus('#prime');
    await at.keyboard.press('Shift+Tab');
    for (let tab = 0; tab < 30; tab += 1) {
      for (const mark of (await look()).marks.filter((m) => m.endsWith('focus ring'))) ringed.add(mark);
      await at.keyboard.press('Tab');
    }
    // (`button`: a unit pick, a button with no id)
    for (const control of ['select#model', 'textarea#prime', 'button#generate.primary', 'span.surprise', 'button#most-active', 'button']) {
      expect(ringed).toContain(`${control} focus ring`);
    }

    // an error: its line in the card, and its control marked and focused
    await at.fill('#len', '5000');
    await at.click('#generate');
    expect(await sampleOutcome(at)).toMatch(/^len: must be at most 2500/);
    expect((await look()).marks).toEqual(['input#len focus ring', 'input#len invalid mark']);

    // a sample on its way: Generate disabled, Stop usable
    await at.fill('#len', '2000');
    await breakNextStream(at, 'held');
    await at.click('#generate');
    await at.waitForFunction(() => document.querySelector('#sample .drawn')!.textContent !== '');
    expect(await at.locator('#generate').isDisabled()).toBe(true);
    await look();
    await at.click('#stop');
    expect(await sampleOutcome(at)).toMatch(/^stopped · /);

    // the loss chart's lines and labels
    await at.selectOption('#model', 'tiny');
    expect((await look()).marks).toEqual(expect.arrayContaining(['chart polyline.train', 'chart polyline.val', 'chart circle.val-dot']));

    expect([...faults]).toEqual([]);
  }, colorScheme));
}

it('keeps the loss chart readable and a tip inside the window at a phone width', () => onFreshPage(async (at) => {
  // a phone: no sideways scrolling, and the chart's labels as large as on a desktop
  await at.selectOption('#model', 'tiny');
  const labelHeight = () => at.$$eval('#loss-chart text', (texts) => Math.min(...texts.map((t) => t.getBoundingClientRect().height)));
  const desktop = await labelHeight();
  await at.setViewportSize({ width: 390, height: 800 });
  // redrawn at the new width: its labels no smaller than on the desktop (drawn at 640 and scaled down, about half)
  await expect.poll(labelHeight).toBeGreaterThanOrEqual(desktop * 0.95);
  expect(await at.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // a long word's tip stays inside the window
  await at.selectOption('#model', 'words');
  await at.fill('#score-text', `The ${'antidisestablishmentarianism'.repeat(6)} of the people.`);
  await at.click('#score');
  await at.waitForFunction(() => document.querySelectorAll('#scored > span').length === 7); // six tokens and the closing <EOS>
  await at.hover('#scored span:nth-child(2)');
  await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
  expect(await at.locator('#tip .head').textContent()).toMatch(/ \(<UNK>\) {2}p = /);
  expect(await at.evaluate(() => document.querySelector('#tip')!.getBoundingClientRect().right)).toBeLessThanOrEqual(390);

  // the page scrolled with a tip open: the tip goes with its token
  await at.mouse.move(0, 0);
  await at.focus('#scored span:nth-child(2)');
  await expect.poll(() => at.locator('#tip').isVisible()).toBe(true);
  const besideItsToken = () => at.evaluate(() => {
    const token = document.activeElement!.getBoundingClientRect(), tip = document.querySelector('#tip')!.getBoundingClientRect();
    return Math.abs(tip.top - (token.bottom + 6)) < 1 || Math.abs(tip.bottom - (token.top - 6)) < 1;
  });
  expect(await besideItsToken()).toBe(true);
  await at.evaluate(() => new Promise<void>((resolve) => {
    window.addEventListener('scroll', () => resolve(), { once: true });
    window.scrollBy(0, 120);
  }));
  expect(await at.locator('#tip').isVisible()).toBe(true);
  expect(await besideItsToken()).toBe(true);

  // a model's name longer than the phone is wide: shortened in its box, no sideways scrolling
  await reloadWithModels<{ models: { name: string }[] }>(at, (answer) => {
    answer.models[2]!.name = `words-${'of-a-run-named-at-length-'.repeat(4)}`;
  });
  expect(await at.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
}));

it('draws a lone evaluation as two dots, its axes labelled as finely as their steps', () => onFreshPage(async (at) => {
  // the tiny model's history as one evaluation: a loss axis in steps of 0.025, a token axis in steps of 250, both as rnn plot's
  await reloadWithModels<{ models: { history: unknown[] }[] }>(at, (answer) => {
    answer.models[0]!.history = [{ step: 20, tokensSeen: 1500, trainLoss: 4.52, valLoss: 4.37 }];
  });
  await at.waitForFunction(() => document.querySelectorAll('#loss-chart circle').length === 2);
  expect(await at.locator('#loss-chart circle.train-dot').count()).toBe(1);
  expect(await at.locator('#loss-chart circle.val-dot').count()).toBe(1);
  expect(await at.locator('#loss-chart text[text-anchor="end"]').allTextContents()).toEqual(
    ['4.350', '4.375', '4.400', '4.425', '4.450', '4.475', '4.500', '4.525'],
  );
  const along = await at.locator('#loss-chart text[text-anchor="middle"]').allTextContents();
  expect(along).toEqual(['0', '250', '500', '750', '1k', '1.25k', '1.5k', 'characters seen']);
}));

it('labels the loss axis from a tick below the lowest loss to one above the highest, as rnn plot does, the lowest point off the axis', () => onFreshPage(async (at) => {
  // a short run's two evaluations: the lowest loss, 1.717, between two ticks of a step of 0.05
  await reloadWithModels<{ models: { history: unknown[] }[] }>(at, (answer) => {
    answer.models[0]!.history = [
      { step: 600, tokensSeen: 960_000, trainLoss: 1.717, valLoss: 1.888 },
      { step: 699, tokensSeen: 1_118_400, trainLoss: 1.749, valLoss: 1.877 },
    ];
  });
  await at.waitForFunction(() => document.querySelectorAll('#loss-chart circle.val-dot').length === 2);
  expect(await at.locator('#loss-chart text[text-anchor="end"]').allTextContents()).toEqual(['1.70', '1.75', '1.80', '1.85', '1.90']);
  const axis = Number(await at.locator('#loss-chart line.axis').first().getAttribute('y1'));
  const lowest = await at.locator('#loss-chart polyline.train').getAttribute('points');
  expect(Number(lowest!.split(' ')[0]!.split(',')[1])).toBeLessThan(axis - 5);
}));

it('cuts the lines at the top of the loss axis where they go above the model\'s loss ceiling, as rnn plot does, and says how high', () => onFreshPage(async (at) => {
  // the tiny model (74 tokens: its ceiling 2 ln 74 = 8.61) with a first evaluation far above it
  await reloadWithModels<{ models: { history: unknown[] }[] }>(at, (answer) => {
    answer.models[0]!.history = [
      { step: 10, tokensSeen: 16_000, trainLoss: 2000, valLoss: 1500 },
      { step: 20, tokensSeen: 32_000, trainLoss: 4.2, valLoss: 4.3 },
      { step: 30, tokensSeen: 48_000, trainLoss: 3.9, valLoss: 4.0 },
    ];
  });
  await at.waitForFunction(() => document.querySelectorAll('#loss-chart circle.val-dot').length === 3);
  expect(await at.locator('#loss-chart text[text-anchor="end"]').allTextContents()).toEqual(['3.9', '4.0', '4.1', '4.2', '4.3']);
  expect(await at.locator('#loss-chart p').textContent()).toBe(
    'Losses go above the chart, up to 2000.000: the axis stops at 8.61, as rnn plot\'s does.',
  );
  // the lines and dots drawn within the plot, which ends a dot's radius above the highest tick's grid line
  expect(await at.locator('#loss-chart [clip-path="url(#loss-plot)"]').count()).toBe(5);
  const top = Math.min(...(await at.locator('#loss-chart line.grid').evaluateAll((lines) => lines.map((l) => Number(l.getAttribute('y1'))))));
  expect(Number(await at.locator('#loss-plot rect').getAttribute('y'))).toBeCloseTo(top - 3, 6);
  // a model within its ceiling says nothing of it
  await reloadWithModels<{ models: { history: unknown[] }[] }>(at, (answer) => {
    answer.models[0]!.history = [
      { step: 20, tokensSeen: 32_000, trainLoss: 4.2, valLoss: 4.3 }, { step: 30, tokensSeen: 48_000, trainLoss: 3.9, valLoss: 4.0 },
    ];
  });
  await at.waitForFunction(() => document.querySelectorAll('#loss-chart circle.val-dot').length === 2);
  expect(await at.locator('#loss-chart p').count()).toBe(0);
}));

it('labels the loss axis no more densely than its labels can be read apart, on the smallest phone too', () => onFreshPage(async (at) => {
  // a loss range of 0.275: in steps of 0.05, eight labels
  await reloadWithModels<{ models: { history: unknown[] }[] }>(at, (answer) => {
    answer.models[0]!.history = [
      { step: 200, tokensSeen: 320_000, trainLoss: 5.154, valLoss: 4.985 },
      { step: 364, tokensSeen: 582_400, trainLoss: 5.03, valLoss: 4.879 },
    ];
  });
  const gaps = () => at.$$eval('#loss-chart text[text-anchor="end"]', (labels) => {
    const tops = labels.map((label) => label.getBoundingClientRect().top);
    return Math.min(...tops.slice(1).map((top, i) => Math.abs(top - tops[i]!)));
  });
  expect(await gaps()).toBeGreaterThanOrEqual(20);
  await at.setViewportSize({ width: 320, height: 700 });
  await expect.poll(gaps).toBeGreaterThanOrEqual(20);
}));

it('counts a sample of one token as one token, not as 1 tokens', () => onFreshPage(async (at) => {
  await at.fill('#len', '1');
  await at.fill('#seed', '4');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^1 token in [\d.]+ s \(length\) · seed 4$/);
}));

it('at temperature 0 greys out top-p and the seed and sends neither, the line saying no seed and no warning; above 0 they come back as typed', () => onFreshPage(async (at) => {
  const sent: Record<string, unknown>[] = [];
  at.on('request', (request) => {
    if (request.url().endsWith('/v1/generate')) sent.push(request.postDataJSON() as Record<string, unknown>);
  });
  const why = 'temperature 0 takes the most probable token: top-p and the seed change nothing';
  await at.fill('#len', '5');
  await at.fill('#seed', '3');
  await at.fill('#top-p', '0.5');
  await at.fill('#temperature', '0');
  for (const id of ['#top-p', '#seed']) {
    expect(await at.locator(id).isDisabled()).toBe(true);
    expect(await at.locator(id).getAttribute('title')).toBe(why);
  }
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^5 tokens in [\d.]+ s \(length\)$/);
  expect(sent).toHaveLength(1);
  expect(Object.keys(sent[0]!)).not.toContain('topP');
  expect(Object.keys(sent[0]!)).not.toContain('seed');
  await at.fill('#temperature', '0.8');
  for (const id of ['#top-p', '#seed']) {
    expect(await at.locator(id).isEnabled()).toBe(true);
    expect(await at.locator(id).getAttribute('title')).toBeNull();
  }
  expect(await at.locator('#top-p').inputValue()).toBe('0.5');
  expect(await at.locator('#seed').inputValue()).toBe('3');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^5 tokens in [\d.]+ s \(length\) · seed 3$/);
  expect(sent[1]).toMatchObject({ topP: 0.5, seed: 3 });
}));

it('clears the mark the server set on the seed where temperature 0 greys it out, as a seed it no longer sends', () => onFreshPage(async (at) => {
  await at.fill('#len', '5');
  await at.fill('#seed', '5000000000');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^seed: /);
  expect(await at.locator('#seed').getAttribute('aria-invalid')).toBe('true');
  await at.fill('#temperature', '0');
  expect(await at.locator('#seed').isDisabled()).toBe(true);
  expect([await at.locator('#seed').getAttribute('aria-invalid'), await at.locator('#seed').getAttribute('aria-describedby')]).toEqual([null, null]);
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^5 tokens in [\d.]+ s \(length\)$/);
}));

it("says the warnings of the server's answer on the sample's line, until the next sample", () => onFreshPage(async (at) => {
  const warnings = ['lengthPenalty has no effect without stopAtEos: every hypothesis then has the same length', 'another field changed nothing'];
  const events = [{ text: 'The k' }, { done: true, tokens: 5, finish: 'length', seed: 3, unknownTokens: 0, warnings }];
  await at.route('**/v1/generate', (route) => route.fulfill({ contentType: 'application/x-ndjson', body: events.map((e) => `${JSON.stringify(e)}\n`).join('') }), { times: 1 });
  await at.fill('#len', '5');
  await at.fill('#seed', '3');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(new RegExp(`^5 tokens in [\\d.]+ s \\(length\\) · seed 3 · ${warnings[0]} · ${warnings[1]}$`));
  expect(await at.locator('#sample-status').getAttribute('class')).toBe('muted');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^5 tokens in [\d.]+ s \(length\) · seed 3$/);
}));

it("says a sample the server's time limit cut short was stopped by it, naming its flag, not a bare (time)", () => onFreshPage(async (at) => {
  const events = [{ text: 'The k' }, { done: true, tokens: 5, finish: 'time', seed: 9, unknownTokens: 0 }];
  await at.route('**/v1/generate', (route) => route.fulfill({ contentType: 'application/x-ndjson', body: events.map((e) => `${JSON.stringify(e)}\n`).join('') }));
  await at.fill('#seed', '9');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^5 tokens in [\d.]+ s \(stopped by the server's time limit, its --time-limit\) · seed 9$/);
  expect(await at.locator('#sample .drawn').textContent()).toBe('The k');
  expect(await at.locator('#generate').isEnabled()).toBe(true);
}));

it('draws a sample of many pieces as the text the server sent, in a few text nodes, not one a piece, its end in sight', () => onFreshPage(async (at) => {
  // the server's answer with each of its pieces cut into pieces of a character each
  const sent: string[] = [];
  let tags = 0;
  await at.route('**/v1/generate', async (route) => {
    const response = await route.fetch();
    const events = (await response.text()).split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { text?: string; eos?: boolean });
    const pieces = events.flatMap((event) => {
      if (typeof event.text !== 'string' || event.eos === true || event.text === '') return [event];
      return [...event.text].map((text) => ({ ...event, text }));
    });
    for (const piece of pieces) {
      if (typeof piece.text === 'string') sent.push(piece.text);
      if (piece.eos === true) tags += 1;
    }
    await route.fulfill({ response, body: pieces.map((piece) => `${JSON.stringify(piece)}\n`).join('') });
  });
  await at.fill('#prime', 'The\n'.repeat(40));
  await at.fill('#len', '2500');
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^2,500 tokens in /);
  expect(sent.length).toBeGreaterThan(2000);
  expect(await at.locator('#sample .drawn').textContent()).toBe(sent.join(''));
  // a text node after each <EOS>'s tag and the character held before it (holdBefore), and the first
  expect(await at.$eval('#sample .drawn', (drawn) => drawn.childNodes.length)).toBeLessThanOrEqual(1 + 3 * tags);
  expect(await at.$eval('#sample', (box) => box.scrollHeight - box.scrollTop - box.clientHeight)).toBeLessThan(2);
}));

it("offers no more tokens than the server's --max-len, its own default cut to it", () => onFreshPage(async (at) => {
  expect(await at.locator('#len').inputValue()).toBe('300');
  await reloadWithModels<{ limits: { len: number } }>(at, (answer) => {
    answer.limits.len = 120;
  });
  expect([await at.locator('#len').getAttribute('max'), await at.locator('#len').inputValue()]).toEqual(['120', '120']);
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^120 tokens in /);
}));

it('names --max-connections beside a stopped server where a connection is turned away, which the page cannot tell apart', () => onFreshPage(async (at) => {
  // a server at its --max-connections closes one more as it comes: to the page, a connection reset
  await at.route('**/v1/score', (route) => route.abort('connectionreset'), { times: 1 });
  await at.click('#score');
  await at.waitForFunction(() => /^could not reach the server/.test(document.querySelector('#score-status')!.textContent!));
  expect(await at.locator('#score-status').textContent())
    .toMatch(/^could not reach the server \(.+\): is rnn serve still running, with fewer connections open than its --max-connections\?$/);
  await at.click('#score');
  await at.waitForFunction(() => /^\d+ predictions · /.test(document.querySelector('#score-status')!.textContent!));
}));

it('says a sample waits for the server while in its queue; one stopped there was stopped before it started, and shows nothing of it as read or drawn', async () => {
  const busy = await serve(scratch.dir, ['--checkpoint', `tiny=${join(scratch.dir, 'tiny', 'latest.json')}`, '--workers', '1', '--max-len', '100000000']);
  const at = await context.newPage();
  const longer = new AbortController();
  try {
    // the one thread taken by a sample of another client's, held while that client reads none of it
    const taken = await fetch(`${busy.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ len: 100_000_000, stream: 'ndjson' }), signal: longer.signal });
    expect(taken.status).toBe(200);
    await at.goto(busy.url);
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 1);
    await at.click('#generate');
    // the page's sample in the queue behind it
    let waiting = 0;
    while (waiting !== 1) waiting = ((await request(`${busy.url}/healthz`)).json as { waiting: number }).waiting;
    expect(await at.locator('#sample-status').textContent()).toBe('waiting for the server…');
    await at.click('#stop');
    expect(await sampleOutcome(at)).toBe('stopped before it started: nothing was drawn');
    expect(await at.locator('#sample').textContent()).toBe('');
    expect(await at.locator('#generate').isEnabled()).toBe(true);
  } finally {
    longer.abort();
    await at.close();
    await busy.stop();
  }
});

it('times a sample that waited in the server\'s queue apart from its wait; the Surprise and Units panels say they wait for the server meanwhile', async () => {
  const busy = await serve(scratch.dir, ['--checkpoint', `tiny=${join(scratch.dir, 'tiny', 'latest.json')}`, '--workers', '1', '--max-len', '100000000']);
  const at = await context.newPage();
  const longer = new AbortController();
  const queued = async (n: number) => {
    let waiting = 0;
    while (waiting !== n) waiting = ((await request(`${busy.url}/healthz`)).json as { waiting: number }).waiting;
  };
  const lines = () => Promise.all(['#sample-status', '#score-status', '#units-status'].map((id) => at.locator(id).textContent()));
  try {
    // the one thread taken by a sample of another client's, held while that client reads none of it
    const taken = await fetch(`${busy.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ len: 100_000_000, stream: 'ndjson' }), signal: longer.signal });
    expect(taken.status).toBe(200);
    await at.goto(busy.url);
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 1);
    // a sample, a score and the most active units, each in the queue behind it
    await at.fill('#len', '40');
    await at.fill('#seed', '3');
    await at.click('#generate');
    await queued(1);
    await at.fill('#score-text', 'The people.');
    await at.click('#score');
    await queued(2);
    await at.click('#most-active');
    await queued(3);
    expect(await lines()).toEqual(['waiting for the server…', 'waiting for the server…', 'waiting for the server…']);
    // the thread free: the sample's time is its own, its wait in the queue told apart
    longer.abort();
    expect(await sampleOutcome(at)).toMatch(/^40 tokens in \d+\.\d\d s \(length\), after \d+\.\d\d s waiting in the server's queue · seed 3$/);
    await at.waitForFunction(() => document.querySelectorAll('#unit-picks button').length === 8);
    expect((await lines()).slice(1)).toEqual([expect.stringMatching(/^\d+ predictions · /), '']);
  } finally {
    longer.abort();
    await at.close();
    await busy.stop();
  }
});

it('loads whole from a server of --max-connections 1, the least it takes, and samples and scores over that one connection', async () => {
  const single = await serve(scratch.dir, ['--checkpoint', `tiny=${join(scratch.dir, 'tiny', 'latest.json')}`, '--max-connections', '1']);
  const at = await context.newPage();
  const failed: string[] = [];
  at.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  try {
    await at.goto(single.url);
    expect(failed).toEqual([]);
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 1);
    await at.fill('#len', '40');
    await at.click('#generate');
    expect(await sampleOutcome(at)).toMatch(/^40 tokens in /);
    await at.click('#score');
    await at.waitForFunction(() => document.querySelector('#score-status')!.textContent !== 'waiting for the server…');
    expect(await at.locator('#score-status').textContent()).toMatch(/^\d+ predictions · /);
    expect(failed).toEqual([]);
  } finally {
    await at.close();
    await single.stop();
  }
});

it('asks a --token server for its token, announces one refused as an error, and hands the focus to the model once the token is taken', async () => {
  const guarded = await serve(scratch.dir, ['--checkpoint', `tiny=${join(scratch.dir, 'tiny', 'latest.json')}`, '--token', 'open-sesame']);
  const at = await context.newPage();
  try {
    await at.goto(guarded.url);
    await at.waitForFunction(() => !(document.querySelector('#token-box') as HTMLFormElement).hidden);
    await at.focus('#token');
    await at.keyboard.type('wrong');
    await at.keyboard.press('Enter');
    await at.waitForFunction(() => /^the token was not accepted: /.test(document.querySelector('#model-info')!.textContent!));
    expect(await at.evaluate(() => document.activeElement!.id)).toBe('token');
    // an error as the cards' are: a live line a screen reader reads, in the error's colour, and the token marked by it
    expect(await at.locator('#model-info').getAttribute('role')).toBe('status');
    expect(await at.locator('#model-info').getAttribute('class')).toMatch(/\berror\b/);
    expect(await at.locator('#model-info').getAttribute('aria-live')).toBe('assertive');
    expect([await at.locator('#token').getAttribute('aria-invalid'), await at.locator('#token').getAttribute('aria-describedby')]).toEqual(['true', 'model-info']);
    for (const colorScheme of ['light', 'dark'] as const) {
      await at.emulateMedia({ colorScheme });
      const seen = await contrastFaults(at);
      expect([colorScheme, seen.faults]).toEqual([colorScheme, []]);
      expect(seen.marks).toContain('input#token invalid mark');
    }
    await at.fill('#token', '');
    await at.keyboard.type('open-sesame');
    await at.keyboard.press('Enter');
    await at.waitForFunction(() => document.querySelectorAll('#model option').length === 1);
    expect(await at.locator('#token-box').isHidden()).toBe(true);
    expect(await at.evaluate(() => document.activeElement!.id)).toBe('model');
    expect(await at.locator('#model-info').getAttribute('class')).not.toMatch(/\berror\b/);
  } finally {
    await at.close();
    await guarded.stop();
  }
});

it('says the server cannot be reached once it has stopped, and does not stick', () => onFreshPage(async (at) => {
  await server.stop();
  await at.click('#generate');
  expect(await sampleOutcome(at)).toMatch(/^could not reach the server \(.+\): is rnn serve still running, with fewer connections open than its --max-connections\?$/);
  expect(await at.locator('#sample').textContent()).toBe(''); // the prime was never read: it is not shown as read
  expect(await at.locator('#generate').isEnabled()).toBe(true);
  await at.click('#score');
  await at.waitForFunction(() => /^could not reach the server/.test(document.querySelector('#score-status')!.textContent!));
}));
