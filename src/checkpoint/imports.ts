import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from './errors.js';
import { formatWrittenFirst, isFile } from './files.js';
import { INTEROP_FORMAT } from './interop.js';
import { NAME_IT_SAFETENSORS, SAFETENSORS_EXTENSION, isMisnamedSafetensors } from './safetensors.js';
import { type Checkpoint, startsLikeCheckpoint, trainedStep } from './schema.js';

/** How `importCommand` names the checkpoint it makes of a model file: the file's name, with this for its extension. */
const IMPORTED_EXTENSION = '.checkpoint.json';

/**
 * The checkpoint `importCommand` makes of the model file at `path`: beside it, named as the file
 * with `.checkpoint.json` for its extension.
 */
function importedCheckpointPath(path: string): string {
  const name = basename(path);
  const stem = name.includes('.', 1) ? name.slice(0, name.lastIndexOf('.')) : name;
  return join(dirname(path), `${stem}${IMPORTED_EXTENSION}`);
}

/**
 * The model files beside the checkpoint at `path` that `importCommand` would import into it: a `.safetensors` file and
 * rnn-state/1 JSON (`model.safetensors` and `model.json` for `model.checkpoint.json`), those that are there.
 */
function importedModelFiles(path: string): string[] {
  const name = basename(path);
  if (name.length <= IMPORTED_EXTENSION.length || !name.endsWith(IMPORTED_EXTENSION)) return [];
  const stem = join(dirname(path), name.slice(0, -IMPORTED_EXTENSION.length));
  const safetensors = `${stem}${SAFETENSORS_EXTENSION}`, json = `${stem}.json`;
  return [
    ...(isFile(safetensors) ? [safetensors] : []),
    ...(formatWrittenFirst(json) === INTEROP_FORMAT ? [json] : []),
  ];
}

/**
 * The command that imports the model file at `path` into a checkpoint beside it
 * (importedCheckpointPath): never the file itself, whatever it is named.
 */
function importCommand(path: string): string {
  return `rnn import ${path} --out ${importedCheckpointPath(path)}`;
}

/**
 * Whether the checkpoint imported from the model file `model` (importedCheckpointPath) is older than it: an import of
 * the model a run wrote there before, which `reimport` replaces.
 */
function isStaleImport(checkpoint: string, model: string): boolean {
  return modifiedMs(checkpoint) < modifiedMs(model);
}

/** What to do with a stale import (isStaleImport) of the model file `model`: import it again, replacing the checkpoint. */
function reimport(model: string): string {
  return `convert it again with \`${importCommand(model)} --force\``;
}

/**
 * What to do with the model file at `path` for a command that reads checkpoints, and then with the checkpoint (`then`;
 * none: name it): convert it with `importCommand`, or, where that checkpoint is there already, only name it; where it is
 * stale (isStaleImport), convert it again, replacing it.
 */
export function importFirst(path: string, then?: (checkpoint: string) => string): string {
  if (isMisnamedSafetensors(path)) {
    const named = `FILE${SAFETENSORS_EXTENSION}`;
    return `${NAME_IT_SAFETENSORS}, then convert it with \`${importCommand(named)}\`${then === undefined ? '' : `, then ${then(importedCheckpointPath(named))}`}`;
  }
  const checkpoint = importedCheckpointPath(path);
  const after = then === undefined ? ' first' : `, then ${then(checkpoint)}`;
  if (!startsLikeCheckpoint(checkpoint)) return `convert it with \`${importCommand(path)}\`${after}`;
  if (!isStaleImport(checkpoint, path)) return `its checkpoint is there already: ${then?.(checkpoint) ?? `name ${checkpoint}`}`;
  return `its checkpoint ${checkpoint} is older than it (an import of an earlier model): ${reimport(path)}${after}`;
}

/**
 * Refuses the checkpoint at `path` where it is an import (`trainedStep` null) of the model file beside it that is stale
 * (isStaleImport), saying to import that file again. `checkpoint`: the file's, parsed only where there is such a model file
 * newer than it.
 */
export function refuseStaleImport(path: string, checkpoint: () => Checkpoint): void {
  const model = importedModelFiles(path).find((file) => isStaleImport(path, file));
  if (model === undefined || trainedStep(checkpoint()) !== null) return;
  throw new CheckpointError(`${path} is an imported checkpoint older than the model file beside it, ${model} ` +
    `(an import of an earlier model): ${reimport(model)}`);
}

/** When the file at `path` was last written (0 where it cannot be read). */
function modifiedMs(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}
