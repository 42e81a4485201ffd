import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type SkippedFile, refuseDdpFolder, refuseRnnFiles, skipRunFiles, skippedNotice } from '../checkpoint/corpus.js';
import { isFolder, samePath, notFolderKind } from '../checkpoint/files.js';
import { RUN_FOLDER_FILES } from '../checkpoint/run-folder.js';
import { startsLikeCheckpoint } from '../checkpoint/schema.js';
import {
  PREPARED_FILES, type WrittenFolder, isPreparedFolder, preparedLockPath, replacesOnlyPrepared, writePreparedFolder,
} from '../checkpoint/prepared.js';
import { TEXT_SETTINGS } from '../checkpoint/settings.js';
import { InputError, SettingError, parseSettingTable, parseSettings, writtenPath } from '../input/settings.js';
import { CorpusError } from '../text/corpus.js';
import { absoluteCorpusPath } from '../text/corpus-files.js';
import { rareTokensWarning, vocabShortfallWarning } from '../text/word-vocab.js';
import { defaultCorpus, refuseUnfinishedPrepared, vocabularyOptions } from './data.js';
import { isLockFile, takeLock } from './lock.js';
import { freshSettings } from './options.js';

/** What `prepare` accepts: the text settings of `rnn train` (TEXT_SETTINGS), as flags or values, and the folder to write. */
export type PrepareSettings = Partial<Record<keyof typeof TEXT_SETTINGS, unknown>> & { out?: string };

export interface PrepareCallbacks {
  /** How much of the text has been tokenized (0 … 1). */
  onProgress?: (fraction: number) => void;
  /**
   * What the user should know but need not stop for: what was left out of the corpus, a word vocabulary smaller than
   * asked, a text mostly of tokens seen once.
   */
  onWarning?: (warning: InputError) => void;
  /** Aborted, ends the prepare where it stands, its temp files and lock removed, by throwing its reason (`writePreparedFolder`). */
  stop?: AbortSignal;
}

/** A prepared folder's files, as a message names them. */
const FILES = `${PREPARED_FILES.train}, ${PREPARED_FILES.val} and ${PREPARED_FILES.meta}`;

/** What `out`, the folder `prepare` writes, takes, as a message words it. */
export const PREPARED_OUT = `the folder to write ${FILES} to`;
/** `out`'s values: PREPARED_OUT, written to (writtenPath). */
export const PREPARED_OUT_PATH = writtenPath(z.string(), PREPARED_OUT);

/**
 * Writes the prepared folder (`train.bin`, `val.bin`, `meta.json`) of the corpus at
 * `corpusPaths` (none: the bundled corpus) with the text settings `rnn train` would use,
 * defaults included, so that `rnn train DIR` trains on the ids `rnn train CORPUS` would make.
 * A corpus folder is read as `rnn train` reads it, without rnn's own files (`skipRunFiles`):
 * its models, prepared folders, and the folder being written.
 */
export async function prepare(
  options: PrepareSettings, corpusPaths: readonly string[], callbacks: PrepareCallbacks = {},
): Promise<WrittenFolder> {
  const { out, ...text } = options;
  if (out === undefined || out === '') {
    const missing = out === undefined ? 'is required' : 'must not be empty';
    throw new SettingError('out', out, (name) => `${name('out')} ${missing}: ${PREPARED_OUT}`);
  }
  parseSettings(z.object({ out: PREPARED_OUT_PATH.schema }), { out });
  if (existsSync(out) && !isFolder(out)) {
    throw new SettingError('out', out, (name) => `${name('out')} ${out} is ${notFolderKind(out)}, where ${name('out')} takes ${PREPARED_OUT}`);
  }
  const settings = freshSettings(parseSettingTable(TEXT_SETTINGS, text));
  const paths = corpusPaths.length > 0 ? corpusPaths.map(absoluteCorpusPath) : [defaultCorpus()];
  refuseRnnFiles(corpusPaths, 'a text to prepare', () => 'name the text it was trained on');
  if (isFolder(out) && paths.some((path) => samePath(path, out))) {
    throw new SettingError('out', out, (name) => `${name('out')} ${out} is the corpus folder itself, where its ${FILES} would be read as text ` +
      `by the next prepare: write them to a folder of their own (${join(out, 'prepared')} is left out of the corpus)`);
  }
  // a run's folder holding token files would be read as data, where its checkpoints are the run
  const checkpoints = Object.values(RUN_FOLDER_FILES).filter((name) => startsLikeCheckpoint(join(out, name)));
  if (isFolder(out) && checkpoints.length > 0) {
    throw new SettingError('out', out, (name) => `${name('out')} ${out} holds a run's checkpoints (${checkpoints.join(', ')}): prepare into a folder of its own`);
  }
  refuseDdpFolder(out, 'out', () => 'prepare into a folder of its own');
  // token files beside a prepare's lock are its own: one that ended before its meta.json (refuseUnfinishedPrepared), or writing (takeLock)
  if (isFolder(out) && !replacesOnlyPrepared(out) && !isLockFile(preparedLockPath(out))) {
    throw new SettingError('out', out, (name) => `${name('out')}: ${out} holds a ${PREPARED_FILES.meta}, ${PREPARED_FILES.train} or ` +
      `${PREPARED_FILES.val} that no rnn prepare wrote, which this would replace; choose another ${name('out')}`);
  }
  corpusPaths.forEach(refuseUnfinishedPrepared);
  const prepared = corpusPaths[paths.findIndex(isPreparedFolder)];
  if (prepared !== undefined) {
    throw new CorpusError(`${prepared} is a prepared folder, token files and not text: prepare the text it was made from, ` +
      `or train on it as it is (rnn train ${prepared})`);
  }
  const skipped: SkippedFile[] = [];
  const written = await writePreparedFolder(paths, { ...vocabularyOptions(settings), docs: settings.docs }, out, {
    onProgress: callbacks.onProgress, stop: callbacks.stop, skip: skipRunFiles([out], skipped, isLockFile), hold: () => {
      const lock = takeLock(preparedLockPath(out), out, 'rnn prepare');
      if (lock.notice !== null) callbacks.onWarning?.(new InputError(lock.notice));
      return lock;
    },
  });
  const notice = skippedNotice(skipped);
  if (notice !== null) callbacks.onWarning?.(new InputError(notice));
  // a --vocab-size given (not the default, which no one asked for) that the text could not fill
  const { wordVocab } = written.meta;
  const shortfall = wordVocab && vocabShortfallWarning(wordVocab, settings.vocabSize, settings.minCount);
  if (shortfall && text.vocabSize !== undefined) callbacks.onWarning?.(shortfall);
  const rare = wordVocab && rareTokensWarning(wordVocab);
  if (rare) callbacks.onWarning?.(rare);
  return written;
}
