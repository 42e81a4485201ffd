import { Chalk, type ChalkInstance } from 'chalk';
import cliProgress from 'cli-progress';
import type { RunLimits } from '../checkpoint/settings.js';
import { durationText } from '../input/duration.js';
import { quoted, visible } from '../input/issues.js';
import type { CheckpointEvent, DoneEvent, EvalEvent, StartEvent, StepEvent, TrainEvent } from '../train/events.js';
import { corpusFilesText } from '../text/corpus-files.js';
import { counted, grouped, plural } from '../input/counts.js';
import { TOKEN_UNITS, type TokenUnit, vocabularyText } from '../text/vocab.js';
import { vocabularyCoverage } from '../text/word-vocab.js';
import { textColumns } from '../text/columns.js';
import { stderrChalk as chalk } from './color.js';
import { redrawsInPlace, terminalColumns, wholePercents } from './terminal.js';
import { addedText, warn as writeWarning, warningLine } from './errors.js';
import type { Output } from './pipes.js';
import { type ValidationPoint, nextCommands, validationChart } from './train-summary.js';

/**
 * How training reports: a live bar (stderr is a terminal that redraws in place), plain lines (it is not), JSON lines
 * on stdout, or nothing (neither has a reader).
 */
export type ProgressMode = 'tty' | 'plain' | 'json' | 'none';

export interface ProgressDisplay {
  onEvent(event: TrainEvent): void;
  /** Shows `message` as a warning line where it does not break the display. */
  warn(message: string): void;
  /** Shows how far an evaluation has scored the validation split (the live bar only: its scoring may take minutes). */
  evaluating?(fraction: number): void;
  /** Leaves the terminal clean (stops the bar); safe to call twice. */
  stop(): void;
}

export function progressMode(json: boolean): ProgressMode {
  return json ? 'json' : redrawsInPlace(process.stderr) ? 'tty' : 'plain';
}

/** The stream a mode's progress goes to. */
export function progressOutput(mode: ProgressMode): Output | null {
  return mode === 'json' ? 'stdout' : mode === 'none' ? null : 'stderr';
}

export function createProgress(mode: ProgressMode): ProgressDisplay {
  if (mode === 'json') {
    return {
      onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
      warn: writeWarning,
      stop: () => {},
    };
  }
  if (mode === 'none') return { onEvent: () => {}, warn: () => {}, stop: () => {} };
  return mode === 'tty' ? new BarDisplay() : new LineDisplay();
}

/**
 * `950`, `42.1k`, `123k`, `1.25M`: a whole number under a thousand, else three significant digits in the unit
 * they stay under a thousand in (`1.00k`, not `1000`).
 */
function countText(n: number): string {
  if (Math.round(n) < 1000) return `${Math.round(n)}`;
  const thousands = n / 1e3;
  return Number(thousands.toPrecision(3)) < 1000 ? `${thousands.toPrecision(3)}k` : `${(n / 1e6).toPrecision(3)}M`;
}

/** A loss in three decimals; a diverged run's huge one in four significant digits (`3.060e+31`), not every digit toFixed writes. */
const lossText = (x: number | null): string => (x === null ? '—' : Math.abs(x) < 1e6 ? x.toFixed(3) : x.toPrecision(4));

/** What the run's tokens are called. */
function tokenUnit(start: StartEvent | null): TokenUnit {
  return TOKEN_UNITS[start?.settings.level ?? 'char'];
}

/** The lines a run starts with: the model, the data, the limits and where it saves; a path's control characters shown (visible). */
function startLines(e: StartEvent): string[] {
  const m = e.model;
  const unit = tokenUnit(e);
  const coverage = e.wordVocab && vocabularyCoverage(e.wordVocab, m.vocabSize);
  return [
    `${e.resumedFrom ? `resuming ${e.resumedFrom} at step ${e.step}: ` : e.initFrom ? `fine-tuning ${e.initFrom.path}: ` : 'training '}` +
      `${m.cell} ${m.numLayers}×${m.hiddenSize} (embed ${m.embedDim}${m.dropout > 0 ? `, dropout ${m.dropout}` : ''}), ` +
      `${grouped(e.parameters)} parameters, ${vocabularyText(m.vocabSize, e.settings.level)}` +
      (coverage ? ` (${coverage})` : '') +
      (e.vocabAdded && e.vocabAdded.length > 0 ? ` (${grouped(e.vocabAdded.length)} added: ${addedText(e.vocabAdded)})` : ''),
    `data: ${dataText(e)}: ${grouped(e.trainTokens)} training and ` +
      `${grouped(e.valTokens)} validation ${plural(e.valTokens, unit.one, unit.many)}, ` +
      `${counted(e.stepsPerEpoch, 'step')} per epoch ` +
      `(batch ${e.settings.batch} × ${e.settings.seqLen}), ${e.settings.workers} ${plural(e.settings.workers, 'worker')}, ` +
      `${e.settings.kernels} kernels`,
    `until: ${limitsText(e)}; checkpoints: ${e.out.latest}${e.valTokens > 0 ? ` (best: ${e.out.best})` : ''}`,
  ].map(visible);
}

/** Where the run's tokens come from: its corpus, or the prepared folder it reads them from and the text that was made of. */
function dataText(e: StartEvent): string {
  const corpus = corpusFilesText(e.corpus, e.emptyFiles, true);
  return e.prepared === undefined ? corpus : `${e.prepared} (prepared from ${corpus})`;
}

function limitsText(e: StartEvent): string {
  const parts: string[] = [];
  if (e.limits.epochs !== null) parts.push(`epoch ${e.limits.epochs}`);
  if (e.limits.maxSteps !== null) parts.push(`step ${e.limits.maxSteps}`);
  if (e.limits.timeSeconds !== null) parts.push(durationText(e.limits.timeSeconds, true));
  return parts.join(' or ');
}

/** How much a step's line says: all of it; for a narrow terminal, no epoch or speed; for a narrower one, no val either. */
type StepDetail = 'full' | 'brief' | 'least';
const STEP_DETAILS: readonly StepDetail[] = ['full', 'brief', 'least'];

/** A step's line, the tokens' speed in `rate`, styled by `style` (the live bar's colours, or none). */
function stepText(e: StepEvent, rate: string, style: ChalkInstance, detail: StepDetail = 'full'): string {
  const of = e.totalSteps === null ? '' : style.dim(`/${e.totalSteps}`);
  const full = detail === 'full';
  return [
    `${full ? `epoch ${e.epoch.toFixed(2)} ` : ''}step ${e.step}${of}`,
    `loss ${style.yellow(lossText(e.smoothedLoss))}`,
    ...(detail === 'least' ? [] : [`val ${lossText(e.valLoss)}`]),
    ...(full ? [`${countText(e.tokensPerSecond)} ${rate}`] : []),
    `ETA ${e.etaSeconds === null ? '—' : durationText(e.etaSeconds)}`,
  ].join(` ${style.dim('|')} `);
}

/** Plain lines' style: no colour. */
const PLAIN = new Chalk({ level: 0 });

/** The most UTF-16 units of an eval sample's JSON a line shows, so that a model of huge tokens does not flood the terminal. */
const SAMPLE_SHOWN = 160;

/** An eval sample as a line shows it: quoted, cut to SAMPLE_SHOWN. */
function sampleText(sample: string): string {
  return quoted(sample, SAMPLE_SHOWN);
}

/** An evaluation's line, styled by `style` (the live bar's colours, or none). */
function evalText(e: EvalEvent, style: ChalkInstance): string {
  const val = e.valLoss === null ? 'no validation split' : `val loss ${style.yellow(lossText(e.valLoss))}${e.improved ? style.green(' (best)') : ''}`;
  return `${style.bold(`eval step ${e.step}`)}: ${val}, train ${lossText(e.trainLoss)} | ${style.dim(`sample: ${sampleText(e.sample)}`)}`;
}

function savedText(e: CheckpointEvent): string {
  return visible(`saved ${e.kind} checkpoint ${e.path} (step ${e.step})`);
}

function doneText(e: DoneEvent): string {
  const why = e.reason === 'interrupted' ? `interrupted (${e.signal})` : e.reason === 'diverged' ? 'diverged' :
    `reached ${e.reason === 'time' ? '--time' : `--${e.reason}`}`;
  const saved = e.savedStep === null ? 'nothing saved' :
    `latest: ${e.latest}${e.savedStep === e.step ? '' : ` (step ${e.savedStep})`}${e.best ? `, best: ${e.best}` : ''}`;
  return visible(
    `done, ${why}, at step ${e.step} (epoch ${e.epoch.toFixed(2)}) after ${durationText(e.elapsedSeconds)}: ` +
    `train ${lossText(e.trainLoss)}, val ${lossText(e.valLoss)}, best val ${lossText(e.bestValLoss)}; ` +
    `${saved}${e.skipped > 0 ? `; ${e.skipped} steps skipped (not finite)` : ''}`,
  );
}

const ESCAPE = String.fromCharCode(0x1b);
/** A colour or style escape: it takes no column (sticky: read where lastIndex is). */
const SGR = new RegExp(`${ESCAPE}\\[[0-9;]*m`, 'y');
const SGR_ALL = new RegExp(SGR.source, 'g');

/** The columns `text` takes on a terminal (textColumns: two for a wide character, none for a combining mark), colour escapes none. */
const columns = (text: string): number => textColumns(text.replace(SGR_ALL, ''));

/**
 * `line` cut into lines of at most `width` columns (`columns`), each after the
 * first indented by two spaces: at the last space that fits, or, for a word longer than a line,
 * where the line ends. Colour escapes take no column; a style open across a break stays on, as
 * the terminal keeps it.
 */
export function wrapToWidth(line: string, width: number): string[] {
  const indent = '  ';
  const lines: string[] = [];
  let current = '', lastSpace = -1;
  for (let i = 0; i < line.length;) {
    SGR.lastIndex = i;
    const escape = SGR.exec(line);
    const piece = escape ? escape[0] : String.fromCodePoint(line.codePointAt(i)!);
    i += piece.length;
    if (escape || columns(current + piece) <= width) {
      if (piece === ' ' && current.length > indent.length) lastSpace = current.length;
      current += piece;
      continue;
    }
    // the line is full: end it at this space, at the last one, or here
    const end = piece === ' ' ? current.length : lastSpace >= 0 ? lastSpace : current.length;
    lines.push(current.slice(0, end));
    current = indent + current.slice(end === lastSpace && piece !== ' ' ? end + 1 : end) + (piece === ' ' ? '' : piece);
    lastSpace = -1;
  }
  lines.push(current);
  return lines;
}

/** Milliseconds at least between two step lines of plain progress. */
const STEP_LINE_MS = 2000;

/**
 * Plain lines on stderr: the start, a step line at most every STEP_LINE_MS, every evaluation and checkpoint, the end. The
 * run's first step writes none: its speed and ETA are the warm-up's (the JIT and the kernels), several times too slow, and
 * its line would stand for STEP_LINE_MS; the first line is the next step's.
 */
class LineDisplay implements ProgressDisplay {
  private lastStepLine = -Infinity;
  private start: StartEvent | null = null;

  onEvent(event: TrainEvent): void {
    const write = (line: string) => void process.stderr.write(`${line}\n`);
    switch (event.event) {
      case 'start':
        this.start = event;
        startLines(event).forEach(write);
        break;
      case 'step': {
        const now = performance.now();
        if (event.step !== (this.start?.step ?? 0) + 1 && now - this.lastStepLine >= STEP_LINE_MS) {
          this.lastStepLine = now;
          write(stepText(event, tokenUnit(this.start).rate, PLAIN));
        }
        break;
      }
      case 'eval':
        write(evalText(event, PLAIN));
        break;
      case 'checkpoint':
        write(savedText(event));
        break;
      case 'done':
        write(doneText(event));
        nextCommands(event, this.start).forEach(write);
        break;
    }
  }

  warn(message: string): void {
    writeWarning(message);
  }

  stop(): void {}
}

/** The live bar's resolution: it moves in thousandths of the run. */
const BAR_STEPS = 1000;
/** The live bar's width in columns, and the least it is narrowed to before the step's text is shortened. */
const BAR_SIZE = 24;
const BAR_SIZE_LEAST = 10;

/** What the live bar's line shows beside the bar: its text in a StepDetail, made when the bar is drawn (5 times a second). */
interface BarText {
  text?: (detail: StepDetail) => string;
}

/**
 * How far along a run is, by steps or by time, whichever limit is nearer: min(1, max(step / totalSteps, elapsed / --time)),
 * each term 0 without its limit.
 */
export function runFraction(e: Pick<StepEvent, 'step' | 'totalSteps' | 'elapsedSeconds'>, limits: Pick<RunLimits, 'timeSeconds'> | undefined): number {
  const byStep = e.totalSteps ? e.step / e.totalSteps : 0;
  const byTime = limits?.timeSeconds ? e.elapsedSeconds / limits.timeSeconds : 0;
  return Math.min(1, Math.max(byStep, byTime));
}

/**
 * The live bar's line in `width` columns, which it may not pass (the terminal cuts it while the bar runs): the bar,
 * narrowed down to BAR_SIZE_LEAST, beside the fullest text that leaves it room, else the fullest text that fits alone,
 * else the least. The texts are made one at a time, the fullest first, until one fits.
 */
function barLine(options: cliProgress.Options, progress: number, payload: BarText, width: number): string {
  const text = payload.text ?? (() => '');
  for (const detail of STEP_DETAILS) {
    const beside = text(detail);
    const barsize = Math.min(BAR_SIZE, width - 1 - columns(beside));
    if (barsize >= BAR_SIZE_LEAST) return `${chalk.cyan(cliProgress.Format.BarFormat(progress, { ...options, barsize }))} ${beside}`;
  }
  const alone = STEP_DETAILS.map(text);
  return alone.find((line) => columns(line) <= width) ?? alone.at(-1)!;
}

/** A live bar on stderr (cli-progress), with evaluations and checkpoints logged above it. */
class BarDisplay implements ProgressDisplay {
  private readonly bars = new cliProgress.MultiBar({
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    fps: 5,
    format: (options, params, payload: BarText) => barLine(options, params.progress, payload, params.maxWidth),
    barsize: BAR_SIZE,
    barCompleteChar: '█',
    barIncompleteChar: '░',
  });
  private bar: cliProgress.SingleBar | null = null;
  private stepText: BarText['text'];
  /** Shows on the bar each whole percentage of the validation split an evaluation has scored: a new one for each. */
  private validating = this.validationProgress();
  private start: StartEvent | null = null;
  private stopped = false;
  private readonly validation: ValidationPoint[] = [];

  onEvent(event: TrainEvent): void {
    switch (event.event) {
      case 'start':
        this.start = event;
        startLines(event).forEach((line) => this.log(chalk.dim(line)));
        this.bar = this.bars.create(BAR_STEPS, 0, { text: () => chalk.dim('starting…') });
        break;
      case 'step':
        this.stepText = (detail: StepDetail) => stepText(event, tokenUnit(this.start).rate, chalk, detail);
        this.bar?.update(Math.round(BAR_STEPS * runFraction(event, this.start?.limits)), { text: this.stepText });
        break;
      case 'eval':
        this.validating = this.validationProgress();
        this.bar?.update({ text: this.stepText });
        if (event.valLoss !== null) this.validation.push({ step: event.step, valLoss: event.valLoss });
        this.log(evalText(event, chalk));
        break;
      case 'checkpoint':
        this.log(chalk.dim(savedText(event)));
        break;
      case 'done':
        this.stop();
        process.stderr.write(`${chalk.bold(doneText(event))}\n`);
        for (const line of validationChart(this.validation, terminalColumns())) process.stderr.write(`${chalk.yellow(line)}\n`);
        for (const line of nextCommands(event, this.start)) process.stderr.write(`${chalk.dim(line)}\n`);
        break;
    }
  }

  evaluating(fraction: number): void {
    this.validating(fraction);
  }

  private validationProgress(): (fraction: number) => void {
    return wholePercents((percent) => this.bar?.update({ text: () => chalk.dim(`validating: ${percent}%`) }));
  }

  warn(message: string): void {
    // before the bar is drawn, a line logged above it waits for its first redraw
    if (this.bar === null) writeWarning(message);
    else this.log(chalk.yellow(warningLine(message)));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // the lines logged since the last redraw are written by a redraw, which stop() alone never makes
    this.bars.update();
    this.bars.stop();
  }

  /**
   * Writes a line above the bar. While the bar runs the terminal does not wrap (a line longer
   * than it is cut), so the line is wrapped here to the terminal's width.
   */
  private log(line: string): void {
    if (this.stopped) process.stderr.write(`${line}\n`);
    else this.bars.log(`${wrapToWidth(line, Math.max(20, terminalColumns())).join('\n')}\n`);
  }
}
