import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { exportState } from '../src/checkpoint/convert.js';
import { paramLayout } from '../src/engine/params.js';
import { expectOneLineError, ROOT, rnnIn } from './helpers/cli.js';
import { scratchFolder, sha256Of } from './helpers/files.js';
import { makeEosModel, request, serve } from './helpers/serve.js';
import { EVAL_GRU, type EvalFixture, readEvalFixture } from './helpers/fixtures.js';

/** The built CLI as a subprocess (helpers/cli.ts). Every file these tests write lives in a temp folder. */

// Each run starts a Node process and parses a 3 MB checkpoint; the fixture case takes a few seconds.
// A loaded machine (the rest of the suite runs alongside) gets room beyond vitest's 5 s default.

const fixture = readEvalFixture();

/** Runs the CLI to completion from the project root; asynchronous, so independent runs can overlap. */
const rnn = (...args: string[]) => rnnIn(ROOT, args);

const { dir } = scratchFolder('rnn-e2e-');
let ckpt: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  writeFileSync(at('state.json'), JSON.stringify(fixture.state));
  ckpt = at('ckpt.json');
  // the fixture as it is: its `state` is the model, beside the cases it scores
  const imported = await rnn('import', EVAL_GRU, '--out', ckpt);
  expect(imported.stdout).toBe(`wrote ${ckpt} (gru, 2×128, 67-token vocabulary)\n`);
  expect(imported.stderr).toBe('');
  expect(imported.status).toBe(0);
});

describe('rnn import + eval perplexity', () => {
  it('reproduces the PyTorch loss of every fixture case, and their token-weighted total', async () => {
    // PyTorch computed the losses in float64, the engine in float32: 1e-4 is the fixtures README's bound.
    const texts = fixture.cases.flatMap((c) => ['--text', c.text]);
    const result = await rnn('eval', 'perplexity', '--checkpoint', ckpt, ...texts, '--json');
    expect(result.status).toBe(0);
    const rows = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; loss: number; bitsPerToken: number; perplexity: number; tokens: number });
    expect(rows.map((r) => r.name)).toEqual([...fixture.cases.map((_, i) => `text ${i + 1}`), 'total']);
    fixture.cases.forEach((c, i) => {
      const row = rows[i]!;
      expect(Math.abs(row.loss - c.loss)).toBeLessThanOrEqual(1e-4);
      expect(row.tokens).toBe([...c.text].length + 1);
      expect(row.bitsPerToken).toBeCloseTo(row.loss / Math.LN2, 12);
      expect(row.perplexity).toBeCloseTo(Math.exp(row.loss), 9);
    });
    const total = rows.at(-1)!;
    const tokens = fixture.cases.reduce((n, c) => n + [...c.text].length + 1, 0);
    const weighted = fixture.cases.reduce((s, c) => s + c.loss * ([...c.text].length + 1), 0) / tokens;
    expect(total.tokens).toBe(tokens);
    expect(Math.abs(total.loss - weighted)).toBeLessThanOrEqual(1e-4);
    // The last case has characters the vocabulary lacks: a warning, and they score as <UNK>.
    expect(result.stderr).toMatch(/^rnn: warning: text 6 has 8 characters outside the vocabulary/);
  });

  it('scores a file as one document and prints a table', async () => {
    writeFileSync(at('salad.txt'), fixture.cases[3]!.text);
    const result = await rnn('eval', 'perplexity', '--checkpoint', ckpt, at('salad.txt'));
    expect(result.status).toBe(0);
    const [header, row] = result.stdout.trimEnd().split('\n');
    expect(header).toMatch(/loss \(nats\/char\)\s+bits\/char\s+perplexity\s+predictions/);
    const [name, loss, bpc, , tokens] = row!.split(/\s+/);
    expect(name).toBe(at('salad.txt'));
    expect(Number(loss)).toBeCloseTo(fixture.cases[3]!.loss, 4);
    expect(Number(bpc)).toBeCloseTo(fixture.cases[3]!.loss / Math.LN2, 4);
    expect(Number(tokens)).toBe(26);
    // counts as every count rnn prints: with separators
    writeFileSync(at('long.txt'), 'to be or not to be '.repeat(80));
    const long = await rnn('eval', 'perplexity', '--checkpoint', ckpt, at('long.txt'));
    expect(long.stdout.trimEnd().split('\n')[1]!.split(/\s+/)[4]).toBe('1,521');
  });

  it('writes the control characters of a file\'s name as \\u escapes in the table, where a terminal would act on them; --json as JSON escapes them', async () => {
    const name = at('red\u001b[31m\nline.txt');
    writeFileSync(name, fixture.cases[3]!.text);
    const [table, json] = await Promise.all([
      rnn('eval', 'perplexity', '--checkpoint', ckpt, name), rnn('eval', 'perplexity', '--checkpoint', ckpt, name, '--json'),
    ]);
    expect(table.status).toBe(0);
    const [header, row, ...more] = table.stdout.trimEnd().split('\n');
    expect(more).toEqual([]);
    const shown = at('red\\u001b[31m\\u000aline.txt');
    expect(row!.startsWith(`${shown}  `)).toBe(true);
    // the columns line up under the header, the name as shown
    expect(header!.indexOf('loss')).toBeGreaterThan(shown.length);
    expect((JSON.parse(json.stdout) as { name: string }).name).toBe(name);
  });
  it('lines the columns up by the columns a terminal draws a name in: two for a CJK character or an emoji', async () => {
    const wide = at('平和と戦争🕊.txt'), narrow = at('peace.txt');
    writeFileSync(wide, fixture.cases[3]!.text);
    writeFileSync(narrow, fixture.cases[3]!.text);
    const table = await rnn('eval', 'perplexity', '--checkpoint', ckpt, wide, narrow);
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    // every line ends at the same column, the last column's cells right-aligned under its header
    const drawn = (line: string): number => [...line].reduce((sum, c) => sum + (/[\u3040-\u30ff\u4e00-\u9fff\u{1F300}-\u{1FAFF}]/u.test(c) ? 2 : 1), 0);
    expect(lines.map(drawn)).toEqual(lines.map(() => drawn(lines[0]!)));
  });
});

describe('rnn export / import', () => {
  it('round-trips the weights bit for bit', async () => {
    expect((await rnn('export', ckpt, '--format', 'torch', '--out', at('out.json'))).status).toBe(0);
    const exported = JSON.parse(readFileSync(at('out.json'), 'utf8')) as EvalFixture['state'] & { format: string };
    expect(exported.format).toBe('rnn-state/1');
    expect(exported.config).toEqual(fixture.state.config);
    expect(exported.vocab).toEqual(fixture.state.vocab);

    expect((await rnn('import', at('out.json'), '--out', at('back.json'))).status).toBe(0);
    const [back, original] = [loadCheckpoint(at('back.json')).weights, loadCheckpoint(ckpt).weights];
    expect(Object.keys(back.tensors)).toEqual(Object.keys(original.tensors));
    for (const [name, tensor] of Object.entries(original.tensors)) {
      expect(back.tensors[name]!.shape).toEqual(tensor.shape);
      expect(back.tensors[name]!.data === tensor.data, name).toBe(true);
    }
    // Exporting the re-imported model writes the same bytes (the export holds no timestamp).
    expect((await rnn('export', at('back.json'), '--out', at('again.json'))).status).toBe(0);
    expect(readFileSync(at('again.json')).equals(readFileSync(at('out.json')))).toBe(true);
  });

  it('records an imported model as untrained, with no corpus', async () => {
    const c = loadCheckpoint(ckpt);
    expect(c.training.step).toBe(0);
    expect(c.history).toEqual([]);
    expect(c.corpus).toBeNull();
    expect(c.command).toEqual(['rnn', 'import', EVAL_GRU, '--out', ckpt]);
  });
});

describe('rnn info', () => {
  it('shows the config, parameter count and vocabulary', async () => {
    const total = paramLayout({ cell: 'gru', vocabSize: 67, embedDim: 64, hiddenSize: 128, numLayers: 2, dropout: 0 }).total;
    const text = await rnn('info', ckpt);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^model\s+gru, 2 layers, hidden 128, embedding 64, dropout 0$/m);
    expect(text.stdout).toMatch(new RegExp(`^parameters\\s+${total.toLocaleString('en-US')}$`, 'm'));
    expect(text.stdout).toMatch(/^vocabulary\s+67 tokens: <EOS> <UNK> "\\n !\$&',-\.3:;\?ABC/m);
    expect(text.stdout).toMatch(/^corpus\s+none recorded/m);
    // an imported model was not trained here: its settings are a run's defaults, and no workers or kernels are claimed
    expect(text.stdout).toMatch(/^settings\s+seq-len \d+, .* \(the defaults for a run from it\)$/m);
    expect(text.stdout).not.toMatch(/^trained on/m);

    const json = JSON.parse((await rnn('info', ckpt, '--json')).stdout) as { config: { model: object }; parameters: number; vocabSize: number; step: number };
    expect(json.config.model).toEqual({ cell: 'gru', vocabSize: 67, embedDim: 64, hiddenSize: 128, numLayers: 2, dropout: 0 });
    expect(json.parameters).toBe(total);
    expect(json.vocabSize).toBe(67);
    expect(json.step).toBe(0);
  });
});

describe('rnn sample', () => {
  it('prints --len characters, reproducibly for a seed', async () => {
    const a = await rnn('sample', '--checkpoint', ckpt, '--len', '50', '--seed', '1');
    expect(a.status).toBe(0);
    expect(a.stderr).toBe('');
    expect([...a.stdout]).toHaveLength(50);
    expect((await rnn('sample', '--checkpoint', ckpt, '--len', '50', '--seed', '1')).stdout).toBe(a.stdout);
    expect((await rnn('sample', '--checkpoint', ckpt, '--len', '50', '--seed', '2')).stdout).not.toBe(a.stdout);
  });

  it('echoes the prime first, and warns about characters outside the vocabulary', async () => {
    const result = await rnn('sample', '--checkpoint', ckpt, '--len', '30', '--temperature', '0', '--prime', 'ROMEO ☃:');
    expect(result.status).toBe(0);
    expect(result.stdout.startsWith('ROMEO ☃:')).toBe(true);
    expect([...result.stdout]).toHaveLength(8 + 30);
    expect(result.stderr).toMatch(/^rnn: warning: --prime has 1 character outside the vocabulary of .* \("☃"\); it reads as <UNK>\n$/);
    writeFileSync(at('prime.txt'), 'ROMEO ☃:');
    expect((await rnn('sample', '--checkpoint', ckpt, '--len', '30', '--temperature', '0', '--prime-file', at('prime.txt'))).stdout).toBe(result.stdout);
  });
});

describe('with a model trained by rnn train', () => {
  it('train → checkpoint → sample → eval: scores the validation split as the trainer did, refuses once the corpus changed', async () => {
    const corpus = at('corpus.txt');
    writeFileSync(corpus, fixture.cases[0]!.text);
    const model = at('trained.json');
    const trained = await rnn('train', corpus, '--hidden', '16', '--embed', '8', '--layers', '1', '--batch', '4', '--seq-len', '16',
      '--max-steps', '5', '--eval-every', '0', '--workers', '1', '--out', model, '--json');
    expect(trained.status).toBe(0);
    const best = loadCheckpoint(model).training.bestValLoss!;
    // rnn info counts the epochs as the run's progress did, the current one's part included
    const done = JSON.parse(trained.stdout.trim().split('\n').at(-1)!) as { event: string; epoch: number };
    const info = JSON.parse((await rnn('info', model, '--json')).stdout) as { epochs: number };
    expect(done.event).toBe('done');
    expect(done.epoch).toBeGreaterThan(0);
    expect(info.epochs).toBeCloseTo(done.epoch, 12);
    const sampled = await rnn('sample', '--checkpoint', model, '--len', '30', '--seed', '3');
    expect(sampled.status).toBe(0);
    expect([...sampled.stdout]).toHaveLength(30);
    const result = await rnn('eval', 'perplexity', '--checkpoint', model, '--json');
    expect(result.status).toBe(0);
    const row = JSON.parse(result.stdout) as { name: string; loss: number; tokens: number };
    expect(row.name).toBe('validation');
    expect(row.tokens).toBeGreaterThan(390); // 10 % of 4002 tokens, less what EvalBatches drops (fewer than 4 rows)
    expect(Math.abs(row.loss - best)).toBeLessThanOrEqual(1e-9);

    writeFileSync(corpus, `${fixture.cases[0]!.text}!`);
    const changed = await rnn('eval', 'perplexity', '--checkpoint', model);
    expect(changed.status).not.toBe(0);
    // the file that differs, named as rnn train --resume names it: its size and hash as `wc -c` and `sha256sum` print them
    const file = (f: { bytes: number; sha256: string }): string => `${f.bytes.toLocaleString('en-US')} bytes, sha256 ${f.sha256.slice(0, 12)}…`;
    const trainedOn = loadCheckpoint(model).corpus!.files[0]!;
    expect(changed.stderr).toBe(`rnn: cannot rebuild the validation split of ${model}: its corpus (${corpus}) changed since training: ` +
      `${corpus} is ${file({ bytes: readFileSync(corpus).length, sha256: sha256Of(corpus) })}, where it was ${file(trainedOn)}; ` +
      'name files to score, or use --text\n');
  });

  it('scores a prepared folder on its validation split: a run trained on it as its own split; tokens it lacks read as <UNK>, warned of', async () => {
    const text = fixture.cases[0]!.text;
    const corpus = at('prepared-corpus.txt'), data = at('prepared-data'), model = at('prepared-trained.json');
    writeFileSync(corpus, text);
    expect((await rnn('prepare', corpus, '--out', data)).status).toBe(0);
    expect((await rnn('train', data, '--hidden', '16', '--embed', '8', '--layers', '1', '--batch', '4', '--seq-len', '16',
      '--max-steps', '5', '--eval-every', '0', '--workers', '1', '--out', model)).status).toBe(0);
    const [own, folder] = await Promise.all([
      rnn('eval', 'perplexity', '--checkpoint', model, '--json'), rnn('eval', 'perplexity', '--checkpoint', model, data, '--json'),
    ]);
    expect(folder.stderr).toBe('');
    expect(JSON.parse(folder.stdout)).toEqual({ ...JSON.parse(own.stdout), name: `${data} (validation)` });
    // ∞, which the model never saw, in the folder's vocabulary (its training part) and three times in its validation split (the end)
    const other = at('prepared-other.txt'), otherData = at('prepared-other');
    writeFileSync(other, `∞${text}∞∞∞\n`);
    expect((await rnn('prepare', other, '--out', otherData)).status).toBe(0);
    const lacking = await rnn('eval', 'perplexity', '--checkpoint', model, otherData);
    expect(lacking.status).toBe(0);
    expect(lacking.stderr).toBe(
      `rnn: warning: ${otherData}'s validation split has 3 characters outside the vocabulary of ${model} ("∞" ×3); they read as <UNK>\n`);
    const words = at('prepared-words');
    expect((await rnn('prepare', corpus, '--level', 'word', '--out', words)).status).toBe(0);
    expectOneLineError(await rnn('eval', 'perplexity', '--checkpoint', model, words),
      /^rnn: the prepared folder .*prepared-words holds word-level tokens, .*prepared-trained\.json is char-level: prepare the corpus again with --level char$/);
  });

  it('reads standard input for a file named -: a text to score, a prime', async () => {
    const text = 'ROMEO:\nWhat light through yonder window breaks?\n';
    const scored = await rnnIn(ROOT, ['eval', 'perplexity', '--checkpoint', ckpt, '-', '--text', text, '--json'], {}, text.replace(/\n/g, '\r\n'));
    expect(scored.status).toBe(0);
    const [fromStdin, fromFlag] = scored.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; logProb: number });
    expect(fromStdin!.name).toBe('standard input');
    expect(fromStdin!.logProb).toBe(fromFlag!.logProb);
    const table = await rnnIn(ROOT, ['eval', 'perplexity', '--checkpoint', ckpt, '-'], {}, text);
    expect(table.stdout).toMatch(/^standard input\b/m);
    const primed = await rnnIn(ROOT, ['sample', '--checkpoint', ckpt, '--prime-file', '-', '--len', '20', '--seed', '5'], {}, 'KING:');
    expect(primed.stdout).toBe((await rnn('sample', '--checkpoint', ckpt, '--prime', 'KING:', '--len', '20', '--seed', '5')).stdout);
    expect(primed.stdout.startsWith('KING:')).toBe(true);
  });

  it('refuses a text named twice (-, a path, a link to it, a prepared folder by two paths), whose rows and total would count it twice', async () => {
    const text = at('twice.txt'), link = at('twice-link.txt'), hardLink = at('twice-hard.txt'), data = at('twice-data');
    writeFileSync(text, fixture.cases[0]!.text);
    symlinkSync(text, link);
    linkSync(text, hardLink);
    expect((await rnn('prepare', text, '--out', data)).status).toBe(0);
    const score = (...files: string[]) => rnnIn(ROOT, ['eval', 'perplexity', '--checkpoint', ckpt, ...files], {}, 'to be or not to be\n');
    const runs = await Promise.all([score('-', '-'), score(text, text), score(text, link), score(hardLink, text), score(data, `${data}/`)]);
    expectOneLineError(runs[0]!, 'rnn: standard input is among the texts to score twice: name each text once');
    expectOneLineError(runs[1]!, `rnn: ${text} is among the texts to score twice: name each text once`);
    expectOneLineError(runs[2]!, `rnn: ${link} is among the texts to score twice (also as ${text}): name each text once`);
    expectOneLineError(runs[3]!, `rnn: ${text} is among the texts to score twice (also as ${hardLink}): name each text once`);
    expectOneLineError(runs[4]!, `rnn: ${data}/ is among the texts to score twice (also as ${data}): name each text once`);
    // once each, and the same text by --text beside its file: scored
    const once = await rnnIn(ROOT, ['eval', 'perplexity', '--checkpoint', ckpt, '-', text, data, '--text', fixture.cases[0]!.text, '--json'], {}, 'to be\n');
    expect(once.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { name: string }).name))
      .toEqual(['standard input', text, `${data} (validation)`, 'text 1', 'total']);
  });

  it('takes a run folder where it takes a checkpoint: its best.json, else its latest.json', async () => {
    const corpus = at('folder-corpus.txt');
    writeFileSync(corpus, fixture.cases[0]!.text);
    const run = at('folder-run');
    const trained = await rnn('train', corpus, '--hidden', '16', '--embed', '8', '--layers', '1', '--batch', '4', '--seq-len', '16',
      '--max-steps', '3', '--workers', '1', '--out', run);
    expect(trained.status).toBe(0);
    const infoPath = async () => (JSON.parse((await rnn('info', run, '--json')).stdout) as { path: string }).path;
    const [path, sampled, sampledBest, scored, exported] = await Promise.all([
      infoPath(), rnn('sample', '--checkpoint', run, '--len', '12', '--seed', '1'),
      rnn('sample', '--checkpoint', join(run, 'best.json'), '--len', '12', '--seed', '1'),
      rnn('eval', 'perplexity', '--checkpoint', run, '--text', 'the text'), rnn('export', run, '--out', at('folder-run.safetensors')),
    ]);
    expect(path).toBe(join(run, 'best.json'));
    expect(sampled.stdout).toBe(sampledBest.stdout);
    expect([scored.status, exported.status]).toEqual([0, 0]);
    unlinkSync(join(run, 'best.json'));
    expect(await infoPath()).toBe(join(run, 'latest.json'));
  });

  it('samples and scores with the newest checkpoint under checkpoints/ when none is named, saying which; finding none, says how the command names one', async () => {
    const cwd = at('project');
    // a model of a few hundred weights over the letters a to d: which checkpoint each command finds is the point, not what it holds
    const model = makeEosModel(dir);
    mkdirSync(join(cwd, 'checkpoints', 'run'), { recursive: true });
    const none = await rnnIn(cwd, ['sample', '--len', '5']);
    expect(none.status).not.toBe(0);
    // the folder it looked in, in full: a command run from the wrong folder says so
    expect(none.stderr).toBe(`rnn: no checkpoint found under ${join(cwd, 'checkpoints')}/: pass --checkpoint FILE, or train one first (rnn train)\n`);
    expectOneLineError(await rnnIn(cwd, ['info']), /^rnn: no checkpoint found under \/.*\/checkpoints\/: name one: rnn info FILE, or train one first \(rnn train\)$/);
    copyFileSync(model, join(cwd, 'checkpoints', 'run', 'latest.json'));
    const implicit = await rnnIn(cwd, ['sample', '--len', '20', '--seed', '9']);
    expect(implicit.status).toBe(0);
    expect(implicit.stdout).toBe((await rnn('sample', '--checkpoint', model, '--len', '20', '--seed', '9')).stdout);
    // which checkpoint made the output, on stderr: stdout stays exactly the text
    const usingFile = (name: string): string =>
      `rnn: no --checkpoint given: using ${join('checkpoints', 'run', name)}, the newest run under checkpoints/\n`;
    const using = usingFile('latest.json');
    expect(implicit.stderr).toBe(using);
    const scored = await rnnIn(cwd, ['eval', 'perplexity', '--text', 'abacab', '--json']);
    expect([scored.status, scored.stderr]).toEqual([0, using]);
    // the newest run's best.json where it has one, though its latest.json was written after it
    const best = join(cwd, 'checkpoints', 'run', 'best.json');
    copyFileSync(model, best);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(best, anHourAgo, anHourAgo);
    const fromBest = await rnnIn(cwd, ['sample', '--len', '5']);
    expect([fromBest.status, fromBest.stderr]).toEqual([0, usingFile('best.json')]);
    unlinkSync(best);
    const named = await rnnIn(cwd, ['sample', '--len', '5', '--checkpoint', join('checkpoints', 'run')]);
    expect([named.status, named.stderr]).toEqual([0, '']);
    const servedNames = async (from: string, args: string[]): Promise<string[]> => {
      const server = await serve(from, ['--workers', '1', ...args]);
      try {
        return ((await request(`${server.url}/v1/models`)).json as { models: { name: string }[] }).models.map((m) => m.name);
      } finally {
        await server.stop();
      }
    };
    // serve names that model after its run folder, as it would the folder given
    expect(await servedNames(cwd, [])).toEqual(['run']);
    expect(await servedNames(join(cwd, 'checkpoints', 'run'), ['--checkpoint', '.'])).toEqual(['run']);
    // and a checkpoint in checkpoints/ itself, in no run folder of its own, after its file
    const solo = join(cwd, 'checkpoints', 'solo.json'), later = new Date(Date.now() + 60_000);
    copyFileSync(model, solo);
    utimesSync(solo, later, later);
    expect(await servedNames(cwd, [])).toEqual(['solo']);
  });
});

describe('bad input', () => {
  /** What examples/pytorch/train_ddp.py leaves in its --out: model.safetensors and summary.json, no checkpoint. */
  const ddpResult = (): string => {
    const folder = at('ddp');
    if (existsSync(join(folder, 'summary.json'))) return folder; // an export would not replace the model it trained
    mkdirSync(folder, { recursive: true });
    exportState(ckpt, join(folder, 'model.safetensors'));
    writeFileSync(join(folder, 'summary.json'), '{}\n');
    return folder;
  };
  /** A folder with nothing in it: no run's. */
  const emptyFolder = (): string => {
    const folder = at('empty-run');
    mkdirSync(folder, { recursive: true });
    return folder;
  };
  const valid = (name: string, edit: (json: Record<string, unknown>) => void): string => {
    const json = JSON.parse(readFileSync(ckpt, 'utf8')) as Record<string, unknown>;
    edit(json);
    writeFileSync(at(name), JSON.stringify(json));
    return at(name);
  };

  const cases: [string, () => string[], RegExp][] = [
    ['--len -5', () => ['sample', '--checkpoint', ckpt, '--len', '-5'], /^rnn: --len: must be a positive integer \(got -5\)$/],
    ['--len 2.5', () => ['sample', '--checkpoint', ckpt, '--len', '2.5'], /^rnn: --len: must be a positive integer \(got 2\.5\)$/],
    ['--temperature -1', () => ['sample', '--checkpoint', ckpt, '--temperature', '-1'], /^rnn: --temperature: must be a number >= 0 \(got -1\)$/],
    ['--top-p 2', () => ['sample', '--checkpoint', ckpt, '--top-p', '2'], /^rnn: --top-p: must be a number in \(0, 1\] \(got 2\)$/],
    ['--top-k 0', () => ['sample', '--checkpoint', ckpt, '--top-k', '0'], /^rnn: --top-k: must be a positive integer \(got 0\)$/],
    ['--seed x', () => ['sample', '--checkpoint', ckpt, '--seed', 'x'], /^rnn: --seed: must be an integer from 0 to 4294967295 \(got x\)$/],
    ['--prime and --prime-file', () => ['sample', '--checkpoint', ckpt, '--prime', 'a', '--prime-file', 'b'], /^rnn: use either --prime or --prime-file/],
    ['missing --prime-file', () => ['sample', '--checkpoint', ckpt, '--prime-file', at('nope.txt')], /^rnn: --prime-file: file not found: .*nope\.txt$/],
    ['checkpoint not JSON', () => {
      writeFileSync(at('garbage.json'), '{ not json');
      return ['sample', '--checkpoint', at('garbage.json')];
    }, /^rnn: --checkpoint .*garbage\.json is not a checkpoint \(not JSON: [^)]+ at position 2\b.*\): give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ...(['sample', 'eval', 'serve'] as const).map((command): [string, () => string[], RegExp] => [
      `JSON of no format for a checkpoint to ${command}`,
      () => {
        writeFileSync(at('other.json'), '{"a":1}\n');
        return [...(command === 'eval' ? ['eval', 'perplexity', '--text', 'hi'] : [command]), '--checkpoint', at('other.json')];
      },
      /^rnn: --checkpoint .*other\.json is not a checkpoint \(format is missing, expected "rnn-checkpoint\/1"\): give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/]),
    ['a package.json for a checkpoint to info', () => {
      writeFileSync(at('package.json'), `${JSON.stringify({ name: 'notes', version: '1.0.0', type: 'module' }, null, 2)}\n`);
      return ['info', at('package.json')];
    }, /^rnn: \S*package\.json is not a checkpoint \(format is missing, expected "rnn-checkpoint\/1"\): name a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['a package.json to resume', () => {
      writeFileSync(at('package.json'), `${JSON.stringify({ name: 'notes', version: '1.0.0', type: 'module' }, null, 2)}\n`);
      return ['train', '--resume', at('package.json'), '--max-steps', '1'];
    }, /^rnn: --resume .*package\.json is not a checkpoint \(format is missing, expected "rnn-checkpoint\/1"\): give a checkpoint that rnn train wrote, or its run folder \(its latest\.json\)$/],
    ["a prepared folder's meta.json to plot", () => {
      writeFileSync(at('meta.json'), '{"format":"rnn-prepared/1","level":"char"}\n');
      return ['plot', at('meta.json'), '--out', at('meta.svg')];
    }, new RegExp('^rnn: \\S*meta\\.json is not a checkpoint \\(format is "rnn-prepared/1", expected "rnn-checkpoint/1"; ' +
      'a prepared folder\'s meta\\.json: data to train on, not a model\\): name a checkpoint file or a run folder that `rnn train` wrote ' +
      '\\(its latest\\.json\\), or a finished examples/pytorch/train_ddp\\.py run: its summary\\.json, its --out folder or its model\\.safetensors$')],
    ...(['sample', 'eval', 'serve'] as const).map((command): [string, () => string[], RegExp] => [
      `a text for a checkpoint to ${command}`,
      () => {
        writeFileSync(at('notes.txt'), '\uFEFF First Citizen:\nBefore we proceed any further, hear me speak.\n');
        return [...(command === 'eval' ? ['eval', 'perplexity', '--text', 'hi'] : [command]), '--checkpoint', at('notes.txt')];
      },
      /^rnn: --checkpoint .*notes\.txt is not a checkpoint \(it begins "First Citizen:\\nBefore we pr\.\.\.\): give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/]),
    ...(['info', 'export'] as const).map((command): [string, () => string[], RegExp] => [
      `a text for a checkpoint to ${command}`,
      () => {
        writeFileSync(at('notes.txt'), 'First Citizen:\nBefore we proceed any further, hear me speak.\n');
        return [command, at('notes.txt'), ...(command === 'export' ? ['--out', at('notes.state.json')] : [])];
      },
      /^rnn: .*notes\.txt is not a checkpoint \(it begins "First Citizen:\\nBefore we pr\.\.\.\): name a checkpoint or a run folder \(its best\.json, else latest\.json\)$/]),
    ['a safetensors file to sample', () => {
      exportState(ckpt, at('weights.safetensors'));
      return ['sample', '--checkpoint', at('weights.safetensors')];
    }, /^rnn: --checkpoint .*weights\.safetensors is a model file, not a checkpoint: convert it with `rnn import .*weights\.safetensors --out .*weights\.checkpoint\.json`, then give --checkpoint .*weights\.checkpoint\.json$/],
    ['a safetensors file to info', () => {
      exportState(ckpt, at('info.safetensors'));
      return ['info', at('info.safetensors')];
    }, /^rnn: .*info\.safetensors is a model file, not a checkpoint: convert it with `rnn import .*info\.safetensors --out .*info\.checkpoint\.json`, then name .*info\.checkpoint\.json$/],
    ['an rnn-state/1 file to sample', () => {
      exportState(ckpt, at('weights.state.json'));
      return ['sample', '--checkpoint', at('weights.state.json')];
    }, /^rnn: --checkpoint .*weights\.state\.json is a model file, not a checkpoint: convert it with `rnn import .*weights\.state\.json --out .*weights\.state\.checkpoint\.json`, then give --checkpoint .*weights\.state\.checkpoint\.json$/],
    ['an rnn-state/1 file to resume', () => {
      exportState(ckpt, at('resumed.state.json'));
      return ['train', '--resume', at('resumed.state.json')];
    }, /^rnn: --resume .*resumed\.state\.json is a model file, not a checkpoint: a run goes on only from a checkpoint rnn train wrote; --init-from .*resumed\.state\.json fine-tunes from it$/],
    ...(['sample', 'eval', 'serve'] as const).map((command): [string, () => string[], RegExp] => [
      `a train_ddp.py result (model.safetensors, summary.json) to ${command}`,
      () => [...(command === 'eval' ? ['eval', 'perplexity', '--text', 'hi'] : [command]), '--checkpoint', ddpResult()],
      new RegExp('^rnn: --checkpoint .*ddp is a folder with no checkpoint in it, neither best\\.json nor latest\\.json, but a model file: ' +
        'convert it with `rnn import .*ddp/model\\.safetensors --out .*ddp/model\\.checkpoint\\.json`, then give --checkpoint .*ddp/model\\.checkpoint\\.json$')]),
    ...(['sample', 'eval', 'serve'] as const).map((command): [string, () => string[], RegExp] => [
      `an empty folder to ${command}`,
      () => [...(command === 'eval' ? ['eval', 'perplexity', '--text', 'hi'] : [command]), '--checkpoint', emptyFolder()],
      /^rnn: --checkpoint .*empty-run is a folder with no checkpoint in it, neither best\.json nor latest\.json: give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/]),
    ['an empty folder to info', () => ['info', emptyFolder()],
      /^rnn: .*empty-run is a folder with no checkpoint in it, neither best\.json nor latest\.json: name a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['a train_ddp.py result to info', () => ['info', ddpResult()],
      /^rnn: .*ddp is a folder with no checkpoint in it, neither best\.json nor latest\.json, but a model file: convert it with `rnn import .*ddp\/model\.safetensors --out .*ddp\/model\.checkpoint\.json`, then name .*ddp\/model\.checkpoint\.json$/],
    ['another checkpoint version', () => ['info', valid('v9.json', (j) => { j['format'] = 'rnn-checkpoint/9'; })],
      /^rnn: \S*v9\.json is not a checkpoint \(format is "rnn-checkpoint\/9", expected "rnn-checkpoint\/1"\): name a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['a wrong tensor shape', () => ['eval', 'perplexity', '--checkpoint', valid('shape.json', (j) => {
      const weights = j['weights'] as { tensors: Record<string, { shape: number[] }> };
      weights.tensors['head.bias']!.shape = [66];
    }), '--text', 'hello'], /^rnn: .*shape\.json: weights\.tensors\["head\.bias"\]\.shape is \[66\], expected \[67\]$/],
    ['missing checkpoint', () => ['sample', '--checkpoint', at('missing.json')], /^rnn: --checkpoint: checkpoint not found: .*missing\.json; give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['missing checkpoint to serve', () => ['serve', '--checkpoint', at('missing.json')], /^rnn: --checkpoint: checkpoint not found: .*missing\.json; give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['missing checkpoint to info', () => ['info', at('missing.json')], /^rnn: checkpoint not found: .*missing\.json; name a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['missing file to score', () => ['eval', 'perplexity', '--checkpoint', ckpt, at('nope.txt')], /^rnn: file not found: .*nope\.txt$/],
    ['a folder to score', () => ['eval', 'perplexity', '--checkpoint', ckpt, dir],
      /^rnn: cannot read .*: it is a folder, and not a prepared one \(rnn prepare\); give a text file or a prepared folder$/],
    ['a run folder to score', () => {
      mkdirSync(at('scored-run'), { recursive: true });
      copyFileSync(ckpt, join(at('scored-run'), 'best.json'));
      return ['eval', 'perplexity', '--checkpoint', ckpt, at('scored-run')];
    }, /^rnn: .*scored-run\/best\.json is an rnn model, not a text to score: name the model with --checkpoint, the texts after it$/],
    ['resuming an imported model without a corpus', () => ['train', '--resume', ckpt, '--max-steps', '1'],
      /^rnn: .*ckpt\.json records no corpus \(an imported model\?\): .* or start a new run on a text from it with `rnn train TEXT --init-from .*ckpt\.json`$/],
    ['a checkpoint path through a file', () => ['sample', '--checkpoint', join(ckpt, 'x.json')],
      /^rnn: --checkpoint: checkpoint not found: .*ckpt\.json\/x\.json; give a checkpoint or a run folder \(its best\.json, else latest\.json\)$/],
    ['resuming a path through a file', () => ['train', '--resume', join(ckpt, 'run')],
      /^rnn: --resume: checkpoint not found: .*ckpt\.json\/run; give a checkpoint that rnn train wrote, or its run folder \(its latest\.json\)$/],
    ['resuming a missing checkpoint', () => ['train', '--resume', at('missing.json')],
      /^rnn: --resume: checkpoint not found: .*missing\.json; give a checkpoint that rnn train wrote, or its run folder \(its latest\.json\)$/],
    ['resuming a folder without latest.json', () => {
      mkdirSync(at('no-latest'), { recursive: true });
      copyFileSync(ckpt, join(at('no-latest'), 'best.json'));
      return ['train', '--resume', at('no-latest')];
    }, /^rnn: --resume (.*no-latest) is a folder without latest\.json, but with its best\.json \(a run stopped between its first two saves\): go on from it with --resume \1\/best\.json --out ANOTHER_FOLDER$/],
    ['resuming a folder with neither checkpoint', () => {
      mkdirSync(at('no-checkpoint'), { recursive: true });
      return ['train', '--resume', at('no-checkpoint')];
    }, /^rnn: --resume .*no-checkpoint is a folder without latest\.json: give a checkpoint that rnn train wrote, or its run folder \(its latest\.json\)$/],
    ['resuming a train_ddp.py result (model.safetensors)', () => {
      mkdirSync(at('ddp-resumed'), { recursive: true });
      writeFileSync(join(at('ddp-resumed'), 'model.safetensors'), '');
      return ['train', '--resume', at('ddp-resumed')];
    }, /^rnn: --resume .*ddp-resumed is a folder without latest\.json, but a model file: a run goes on only from a checkpoint rnn train wrote; --init-from .*ddp-resumed\/model\.safetensors fine-tunes from it$/],
    ['resuming a train_ddp.py model file (model.safetensors)', () => ['train', '--resume', join(ddpResult(), 'model.safetensors')],
      /^rnn: --resume .*ddp\/model\.safetensors is a model file, not a checkpoint: a run goes on only from a checkpoint rnn train wrote; --init-from .*ddp\/model\.safetensors fine-tunes from it$/],
    ['plotting a train_ddp.py model file (model.safetensors) whose summary.json records no run', () => ['plot', join(ddpResult(), 'model.safetensors'), '--out', at('ddp.svg')],
      /^rnn: .*ddp\/summary\.json: format is missing, expected "train_ddp-summary\/1"$/],
    ['export to a path through a file', () => ['export', ckpt, '--out', join(ckpt, 'x.safetensors')],
      /^rnn: cannot write .*ckpt\.json\/x\.safetensors: .*ckpt\.json is not a folder \(a file is in its way\)$/],
    ['export to an empty path', () => ['export', ckpt, '--out', ''], /^rnn: --out: must not be empty \(got ""\)$/],
    ['export to a folder', () => ['export', ckpt, '--out', dir], /^rnn: --out .* is a folder: name the file to write, e\.g\. .*model\.json$/],
    ['import to a folder', () => ['import', EVAL_GRU, '--out', dir, '--force'],
      /^rnn: --out .* is a folder: name the checkpoint file to write, e\.g\. .*model\.json$/],
    ['eval of an imported model without texts', () => ['eval', 'perplexity', '--checkpoint', ckpt],
      /^rnn: .*ckpt\.json records no training corpus \(an imported model\?\): name files to score, or use --text$/],
    ['import of a fixture whose state is broken', () => {
      writeFileSync(at('wrapped.json'), JSON.stringify({ state: { ...fixture.state, vocab: ['a'] }, cases: [] }));
      return ['import', at('wrapped.json'), '--out', at('x.json')];
    },
    /^rnn: .*wrapped\.json: state: vocab/],
    ['import over an existing file', () => ['import', at('state.json'), '--out', ckpt], /^rnn: .*ckpt\.json already exists: pass --force to replace it$/],
    ['export over the checkpoint', () => ['export', ckpt, '--out', ckpt], /^rnn: --out .*ckpt\.json is the checkpoint itself/],
    ['an unknown export format', () => ['export', ckpt, '--format', 'onnx', '--out', at('o.json')], /^rnn: --format: must be one of torch, safetensors \(got onnx\)$/],
    ['--format torch into a .safetensors file', () => ['export', ckpt, '--format', 'torch', '--out', at('m.safetensors')],
      /^rnn: --format torch writes rnn-state\/1 JSON, and --out .*m\.safetensors names a \.safetensors file/],
    ['a missing --out', () => ['import', at('state.json')], /^rnn: required option '--out <file>' not specified$/],
  ];

  it.each(cases)('%s: one line on stderr, no stack, non-zero exit, the model file untouched', async (_, args, message) => {
    const before = readFileSync(ckpt);
    expectOneLineError(await rnn(...args()), message);
    // Buffer.equals: vitest's deep equality walks a 3 MB buffer byte by byte, far too slowly.
    expect(readFileSync(ckpt).equals(before)).toBe(true);
  });
});
