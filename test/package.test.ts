import { cpSync, existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';

/*
 * The package as a program that imports it (`import { … } from 'rnn'`) sees it: package.json's
 * "exports" and the declarations it ships (dist/src, as "files" lists it), installed beside its
 * dependencies alone, and compiled with every declaration checked (skipLibCheck false).
 */

// a whole program checked, the DOM's declarations or Node's among it, in each case
vi.setConfig({ testTimeout: 30_000 });

const { dir } = scratchFolder('rnn-package-');

/** A program that uses every export, and that an argument of the wrong type stays wrong for (the declarations are no `any`). */
const CONSUMER = `import {
  type Activations, type BeamResult, CheckpointError, type GenerateOptions, type Model, type ModelInfo, StoppedError, type TextScore,
  type UnkMode, loadModel,
} from 'rnn';

const model: Model = loadModel('model.json', { kernels: 'wasm' });
const unk: UnkMode = 'show';
const options: GenerateOptions = { prime: 'The ', len: 20, unk, signal: new AbortController().signal };
let text = '';
for await (const piece of model.generate(options)) text += piece;
const score: TextScore = await model.score(text, { top: 3 });
const beam: BeamResult = model.beamSync({ beam: 4, prime: model.tokenize('The ') });
const activations: Activations = model.activationsSync('abc', 1);
const info: ModelInfo = model.info;
// @ts-expect-error a string is no signal
model.completeSync({ n: 2, signal: 'soon' });
export const results = [
  score.perplexity, beam, activations.values[0]?.length, info.config.model.hiddenSize, model.history.length,
  new CheckpointError('x') instanceof Error, new StoppedError() instanceof Error,
];
`;

beforeAll(() => {
  const installed = join(dir, 'node_modules', 'rnn');
  if (!existsSync(join(ROOT, 'dist', 'src', 'api', 'index.d.ts'))) throw new Error('the library is not built: run `npm run build` first');
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
  cpSync(join(ROOT, 'dist', 'src'), join(installed, 'dist', 'src'), {
    recursive: true, filter: (path) => statSync(path).isDirectory() || path.endsWith('.d.ts'),
  });
  // its dependencies, as npm installs them beside it; not its devDependencies (@types/node among them)
  for (const dependency of ['zod']) symlinkSync(join(ROOT, 'node_modules', dependency), join(dir, 'node_modules', dependency));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'src', 'main.ts'), CONSUMER);
});

/** What TypeScript says of the consumer compiled with `lib` and `types`, every diagnostic a line; '' for none. */
function compile(lib: string[], types: string[]): string {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: lib.map((name) => `lib.${name}.d.ts`), types, typeRoots: [join(ROOT, 'node_modules', '@types')],
    strict: true, skipLibCheck: false, noEmit: true,
    // the installed package's own folder, not the checkout a link leads to, whose node_modules holds @types/node
    preserveSymlinks: true,
  };
  const host = ts.createCompilerHost(options);
  const program = ts.createProgram([join(dir, 'src', 'main.ts')], options, host);
  return ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), host).trim();
}

describe('the package compiled by a program that imports it', () => {
  it('needs no @types/node: a browser-leaning program, lib es2022 and dom', () => {
    expect(compile(['es2022', 'dom'], [])).toBe('');
  });

  it('needs no DOM: a Node program, lib es2022 and @types/node', () => {
    expect(compile(['es2022'], ['node'])).toBe('');
  });
});
