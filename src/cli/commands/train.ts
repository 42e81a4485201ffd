import type { Command } from 'commander';
import { RUN_FOLDER_FILES } from '../../checkpoint/run-folder.js';
import { WEIGHT_LIMIT } from '../../checkpoint/integrity.js';
import type { StartEvent } from '../../train/events.js';
import { DEFAULT_CORPUS } from '../../train/data.js';
import { corpusArguments } from '../../text/corpus-files.js';
import { TRAIN_OPTIONS } from '../../train/options.js';
import { DIVERGED_AFTER, type Divergence, type TrainResult, train } from '../../train/trainer.js';
import { shellWord, visible } from '../../input/issues.js';
import { warningText } from '../errors.js';
import { type Output, outputClosed, outputFailureText, readerGone, terminalClosed, whenOutputCloses } from '../pipes.js';
import { ENDING_SIGNALS, exitAfter, secondSignalLine } from '../signals.js';
import { EXIT, exitStatusAfter } from '../exit.js';
import { createProgress, progressMode, progressOutput } from '../progress.js';
import { statusLine, tokenizingProgress } from '../terminal.js';
import { readStandardInput, rnnCommand } from '../train-summary.js';
import { addSettingFlags, recordedCommand } from '../flags.js';

/** An output that failed for another reason than its reader going (a full disk): text was lost. */
interface OutputFailure {
  output: Output;
  error: NodeJS.ErrnoException;
}

export function register(program: Command): void {
  const command = program
    .command('train')
    .summary('train a model on text, or resume a run')
    .description(
      'Train a language model, character-level or (--level word) word-level, on text files or folders (every text file inside), ' +
        'or go on training one with --resume. Writes a checkpoint at each evaluation and at the end: ' +
        `--out DIR gives DIR/${RUN_FOLDER_FILES.latest} and DIR/${RUN_FOLDER_FILES.best}, --out FILE.json gives FILE.json and FILE.best.json. ` +
        'Once training has started, Ctrl-C, SIGTERM, SIGHUP (the terminal closing) or a closed stdout or stderr finishes ' +
        `the current step, saves, and exits ${[...ENDING_SIGNALS, 'SIGPIPE'].map(exitStatusAfter).join(' / ')} ` +
        '(an output that cannot take the text, as on a full disk, does the same and exits 1); ' +
        'before (while the corpus is read and tokenized), ' +
        'a signal ends rnn at once, with nothing to save. A run whose steps stop being finite ends, keeping its last checkpoints.',
    )
    .argument('[corpus...]', 'text files or folders, - for standard input, or one prepared folder (rnn prepare) ' +
      `(default: the bundled ${DEFAULT_CORPUS}; resuming: the checkpoint's)`);
  addSettingFlags(command, TRAIN_OPTIONS)
    .option('--json', 'print one JSON object per event on stdout instead of the progress display')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn train corpus.txt --time 10m\n' +
        '  cat notes/*.txt | rnn train - --time 5m\n' +
        '  rnn train notes/ --cell lstm --layers 3 --hidden 256 --epochs 5 --out checkpoints/notes-lstm/\n' +
        '  rnn train --level word --vocab-size 10000 --time 3m\n' +
        '  rnn train --resume checkpoints/notes-lstm/ --epochs 10\n' +
        '  rnn train shakespeare.txt --init-from checkpoints/notes-lstm/ --time 1m',
    )
    .action((corpus: string[], flags: Record<string, unknown>) => runTrain(corpus, flags));
}

/**
 * Trains with the progress display `--json` asks for. A signal, or stdout or stderr closing,
 * ends the run after its step with a checkpoint; a second one before the save ends rnn at once (secondSignalLine).
 */
async function runTrain(corpus: string[], flags: Record<string, unknown>): Promise<void> {
  const { json, ...options } = flags;
  let mode = progressMode(json === true);
  let display = createProgress(mode);
  const controller = new AbortController();
  let ended = false;
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      const line = secondSignalLine(controller.signal.reason, name, ended);
      if (line === null) return;
      // checkpoints are written atomically, so none is left half-written
      display.stop();
      process.stderr.write(`rnn: ${line}\n`);
      exitAfter(name);
    }
    controller.abort(name);
  };
  // a reader is gone: show the progress on stderr while someone reads it, else nowhere, and end as for a signal, saving
  // (a terminal that closed, as for its SIGHUP); an output that fails otherwise ends the run so too, as a failure (the
  // abort reason is its code, no signal's name)
  let failure: OutputFailure | null = null;
  const stopWatchingOutput = whenOutputCloses((output, error) => {
    if (output === progressOutput(mode)) {
      display.stop();
      mode = outputClosed('stderr') ? 'none' : progressMode(false);
      display = createProgress(mode);
    }
    const hangUp = terminalClosed(output, error);
    if (!readerGone(error) && !hangUp) failure ??= { output, error };
    if (!controller.signal.aborted) {
      controller.abort(failure !== null ? failure.error.code ?? 'output failed' : hangUp ? 'SIGHUP' : 'SIGPIPE');
    }
  });
  let start: StartEvent | null = null;
  let result: TrainResult;
  // on a terminal, one line while the corpus is read and tokenized, which takes minutes for a large one: written to
  // stderr at once, so it shows while the loading holds the event loop
  const status = mode === 'tty' ? statusLine() : null;
  const clear = (): void => status?.('');
  status?.('reading the corpus…');
  try {
    result = await train({ ...options, command: recordedCommand() }, corpus, {
      onEvent: (event) => {
        if (event.event === 'start') {
          clear();
          start = event;
          // before the start a signal has its default effect, ending rnn at once: there is nothing to save, and the corpus is
          // read and tokenized synchronously, where a handler would not run until it was done
          for (const name of ENDING_SIGNALS) process.on(name, onSignal);
        }
        if (event.event === 'done') ended = true;
        display.onEvent(event);
      },
      onWarning: (warning) => {
        if (start === null) clear();
        display.warn(warningText(warning));
      },
      onEvalProgress: (fraction) => display.evaluating?.(fraction),
      ...(status && { onTokenizingProgress: tokenizingProgress(status) }),
      signal: controller.signal,
    });
    reportUnfinished(result, start, failure);
  } finally {
    if (start === null) clear();
    display.stop();
    stopWatchingOutput();
    for (const name of ENDING_SIGNALS) process.off(name, onSignal);
  }
  if (result.reason === 'interrupted' && result.signal === 'SIGHUP') exitAfter('SIGHUP');
}

/**
 * A run that ended short of its limits, interrupted or diverged, or whose output failed: its one line on stderr,
 * and its exit status (a failed output's text was lost: 1, whatever else ended the run).
 */
function reportUnfinished(result: TrainResult, start: StartEvent | null, failure: OutputFailure | null): void {
  const failed = failure === null ? null : outputFailureText(failure.output, failure.error);
  // a path's control characters shown (visible); the command to paste quotes them already (shellWord)
  const say = (line: string): void => void process.stderr.write(`rnn: ${visible(line)}\n`);
  if (result.reason === 'interrupted') {
    const why = failed !== null ? `${failed}; stopped` :
      result.signal === 'SIGPIPE' ? 'stdout closed (SIGPIPE)' : `interrupted by ${result.signal}`;
    say(`${why} at step ${result.step}; ${savedText(result)}; go on with: ${resumeCommand(result, start)}`);
    process.exitCode = failed !== null ? EXIT.failed : exitStatusAfter(result.signal);
  } else if (result.reason === 'diverged') {
    say(divergedText(result, start));
    process.exitCode = EXIT.failed;
  } else if (failed !== null) {
    say(failed);
    process.exitCode = EXIT.failed;
  }
}

/**
 * The command that goes on with an unfinished run: its checkpoint reads its text again, but
 * standard input is gone, so a run that read it pipes the same text in (`… | rnn train - --resume …`).
 */
function resumeCommand(result: TrainResult, start: StartEvent | null): string {
  const resume = `--resume ${shellWord(result.latest)}`;
  if (!readStandardInput(start)) return `${rnnCommand()} train ${resume}`;
  return `… | ${rnnCommand()} train ${corpusArguments(start.corpus, shellWord).join(' ')} ${resume}`;
}

function savedText(result: TrainResult): string {
  return result.savedStep === result.step ? `saved ${result.latest}` :
    result.savedStep === null ? 'nothing was saved' : `kept ${result.latest} (step ${result.savedStep})`;
}

/** The one line for a diverged run: what happened, what was kept, what to change. */
function divergedText(result: TrainResult, start: StartEvent | null): string {
  const settings = start?.settings;
  const advice = [`lower --lr${settings ? ` (it was ${settings.lr})` : ''}`];
  if (settings && settings.clip === null) advice.push('turn on --clip (e.g. --clip 5)');
  const kept = result.savedStep === null ? 'nothing was saved' : `kept the last good checkpoint, ${result.latest} (step ${result.savedStep})`;
  return `training diverged at step ${result.step}: ${DIVERGENCE_TEXT[result.divergence ?? 'steps'](result)}; ${kept}; ` +
    `${advice.join(' or ')} and train again`;
}

/** What went wrong, for each way a run diverges. */
const DIVERGENCE_TEXT: Record<Divergence, (result: TrainResult) => string> = {
  steps: (result) => `${DIVERGED_AFTER} steps in a row had a loss or gradient that is not a finite number (${result.skipped} skipped in all)`,
  validation: () => 'the validation loss is not a finite number',
  weights: () => `its weights grew beyond ±${WEIGHT_LIMIT}, more than any checkpoint may hold`,
};
