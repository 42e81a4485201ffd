import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CORPUS } from '../src/train/data.js';
import { ROOT, TINY_RUN } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';

/*
 * The package as another project gets it: the tarball `npm pack` makes of the built checkout,
 * unpacked as node_modules/rnn beside its dependencies alone; its contents, its declarations as a
 * program that imports it (`import { … } from 'rnn'`) compiles them with every declaration checked
 * (skipLibCheck false).
 */

// a whole program checked, the DOM's declarations or Node's among it, in each case

const { dir } = scratchFolder('rnn-package-');

/** A program that uses every export, and that an argument of the wrong type stays wrong for (the declarations are no `any`). */
const CONSUMER = `import {
  type Activations, type BeamResult, CheckpointError, type GenerateOptions, type HistoryEntry, type KernelsKind, type Model,
  type ModelConfig, type ModelInfo, StoppedError, type TextLevel, type TextScore, type UnkMode, loadModel,
} from 'rnn';

const model: Model = loadModel('model.json', { kernels: 'wasm' });
export const fastest: Model = loadModel('model.json', { kernels: 'auto' });
const unk: UnkMode = 'show';
const options: GenerateOptions = { prime: 'The ', len: 20, unk, signal: new AbortController().signal };
let text = '';
for await (const piece of model.generate(options)) text += piece;
const score: TextScore = await model.score(text, { top: 3 });
const beam: BeamResult = model.beamSync({ beam: 4, prime: model.tokenize('The ') });
const activations: Activations = model.activationsSync('abc', 1);
const info: ModelInfo = model.info;
const evaluations: readonly HistoryEntry[] = model.history;
const config: ModelConfig = model.config;
const kernels: KernelsKind = model.kernels;
const level: TextLevel = info.level;
// @ts-expect-error a string is no signal
model.completeSync({ n: 2, signal: 'soon' });
// @ts-expect-error rnn eval perplexity's, not the library's: its refusals name that command's flags
await model.scoreValidation(1);
// @ts-expect-error as scoreValidation
await model.scorePreparedValidation('prepared', 1);
export const results = [
  score.perplexity, beam, activations.values[0]?.length, info.config.model.hiddenSize, evaluations[0]?.valLoss, config.cell, kernels, level,
  new CheckpointError('x') instanceof Error, new StoppedError() instanceof Error,
];
`;

interface PackedFile {
  path: string;
  size: number;
}

/** The files of the tarball, as `npm pack` lists them. */
let packed: PackedFile[];
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  types: string;
  exports: Record<string, Record<string, string> | string>;
};

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'api', 'index.d.ts'))) throw new Error('the library is not built: run `npm run build` first');
  // --ignore-scripts: the checkout as built, not built again (`prepare`)
  const report = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  const [tarball] = JSON.parse(report) as { filename: string; files: PackedFile[] }[];
  packed = tarball!.files;
  const installed = join(dir, 'node_modules', 'rnn');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, tarball!.filename), '-C', installed, '--strip-components=1']);
  // its dependencies, as npm installs them beside it; not its devDependencies (@types/node among them)
  for (const dependency of Object.keys(manifest.dependencies)) {
    symlinkSync(join(ROOT, 'node_modules', dependency), join(dir, 'node_modules', dependency));
  }
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, 'src', 'main.ts'), CONSUMER);
});

/**
 * What TypeScript says of the consumer `file` (under src/) compiled with `lib` and `types` and as
 * `module` (NodeNext by default), every diagnostic a line; '' for none.
 */
function compile(lib: string[], types: string[], file = 'main.ts', module: 'NodeNext' | 'Node16' = 'NodeNext'): string {
  const options = compilerOptions(lib, types, module);
  const host = ts.createCompilerHost(options);
  const program = ts.createProgram([join(dir, 'src', file)], options, host);
  return ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), host).trim();
}

function compilerOptions(lib: string[], types: string[], module: 'NodeNext' | 'Node16' = 'NodeNext'): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind[module], moduleResolution: ts.ModuleResolutionKind[module],
    lib: lib.map((name) => `lib.${name}.d.ts`), types, typeRoots: [join(ROOT, 'node_modules', '@types')],
    strict: true, skipLibCheck: false, noEmit: true,
    // each dependency in the project's node_modules, not in the checkout's that its link leads to, which holds @types/node
    preserveSymlinks: true,
  };
}

/**
 * The fields an editor shows no documentation for when the consumer's programmer hovers over them: of each
 * interface the package exports (its calls' options and results) and each public member of Model, as `Type.field`.
 */
function undocumented(): string[] {
  const program = ts.createProgram([join(dir, 'src', 'main.ts')], compilerOptions(['es2022'], ['node']));
  const checker = program.getTypeChecker();
  const main = program.getSourceFile(join(dir, 'src', 'main.ts'))!;
  const rnn = checker.getSymbolAtLocation(main.statements.find(ts.isImportDeclaration)!.moduleSpecifier)!;
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(rnn)) {
    const symbol = checker.getAliasedSymbol(exported);
    if (!(symbol.flags & ts.SymbolFlags.Interface) && exported.name !== 'Model') continue;
    for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
      if (member.declarations!.some((d) => ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private)) continue;
      if (ts.displayPartsToString(member.getDocumentationComment(checker)).trim() === '') missing.push(`${exported.name}.${member.name}`);
    }
  }
  return missing;
}

describe('the package compiled by a program that imports it', () => {
  it('needs no @types/node: a browser-leaning program, lib es2022 and dom', () => {
    expect(compile(['es2022', 'dom'], [])).toBe('');
  });

  it('needs no DOM: a Node program, lib es2022 and @types/node', () => {
    expect(compile(['es2022'], ['node'])).toBe('');
  });

  it('documents every field of its options and results and every member of Model, as an editor shows them on hover', () => {
    expect(undocumented()).toEqual([]);
  });

  it('compiles as CommonJS (a .cts) under module nodenext, which knows that Node requires ES modules; node16 says it cannot', () => {
    writeFileSync(join(dir, 'src', 'main.cts'), `import { loadModel } from 'rnn';\nexport const sample: string[] = loadModel('model.json').completeSync({ n: 1 });\n`);
    expect(compile(['es2022'], ['node'], 'main.cts')).toBe('');
    expect(compile(['es2022'], ['node'], 'main.cts', 'Node16')).toContain('TS1479');
  });
});

/** Every file under `folder` (a path inside the checkout), as a path from the checkout's root. */
function filesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile()).map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/**
 * What the package may hold: its manifest and readme, the command, the compiled library (code,
 * declarations, kernels), the playground page and the bundled corpora.
 */
const SHIPPABLE = /^(package\.json|README\.md|LICENSE|bin\/rnn\.js|dist\/src\/.+\.(js|d\.ts|wasm)|src\/serve\/page\/[^/]+|corpora\/[^/]+)$/;

/** The largest file the package holds but its default corpus: a fixture or a data file is larger. */
const LARGEST_FILE = 100_000;

describe('the tarball', () => {
  it('holds what an installed rnn reads: each module compiled and declared, the kernels, the page, the default corpus, the licence, what package.json names', () => {
    const paths = new Set(packed.map((file) => file.path));
    const modules = filesUnder('src').filter((path) => path.endsWith('.ts') && !path.startsWith(join('src', 'engine', 'kernels', 'simd')));
    const needed = [
      ...modules.flatMap((path) => [`dist/${path.replace(/\.ts$/, '.js')}`, `dist/${path.replace(/\.ts$/, '.d.ts')}`]),
      ...filesUnder(join('dist', 'src')).filter((path) => path.endsWith('.wasm')),
      ...filesUnder(join('src', 'serve', 'page')),
      DEFAULT_CORPUS, 'corpora/README.md', 'LICENSE',
      ...Object.values(manifest.bin), manifest.types,
      ...Object.values(manifest.exports).flatMap((target) => typeof target === 'string' ? [target] : Object.values(target)),
    ].map((path) => path.replace(/^\.\//, ''));
    expect(needed.filter((path) => path.endsWith('.wasm'))).toHaveLength(2);
    expect(needed.filter((path) => !paths.has(path))).toEqual([]);
  });

  it('holds nothing else: no test, bench, docs, fixture, checkpoint or source map (its sources stay behind)', () => {
    expect(packed.map((file) => file.path).filter((path) => !SHIPPABLE.test(path))).toEqual([]);
    expect(packed.filter((file) => file.path !== DEFAULT_CORPUS && file.size > LARGEST_FILE).map((file) => file.path)).toEqual([]);
  });

  it('holds no module left in dist/ by an earlier build whose source is gone: each one compiles a source of src/', () => {
    const compiled = packed.map((file) => file.path).filter((path) => /^dist\/src\/.+\.(js|d\.ts)$/.test(path));
    expect(compiled.length).toBeGreaterThan(0);
    expect(compiled.filter((path) => !existsSync(join(ROOT, path.replace(/^dist\//, '').replace(/(\.d)?\.ts$|\.js$/, '.ts'))))).toEqual([]);
  });
});

/** A program of the project that installed rnn, run from its folder: status, stdout and stderr. */
function runInProject(args: string[]): { status: number | null; stdout: string; stderr: string } {
  try {
    return { status: 0, stdout: execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }), stderr: '' };
  } catch (err) {
    const failed = err as { status: number | null; stdout: string; stderr: string };
    return { status: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the package installed in another project', () => {
  /** What a program that loads the model prints: the corpus it was trained on, and a sample on the WebAssembly kernels. */
  const USE = `const model = loadModel('tiny.json', { kernels: 'wasm' });
const sample = model.completeSync({ prime: 'The ', n: 1, len: 5, seed: 1 })[0];
console.log(JSON.stringify({ corpus: model.info.corpus.files[0].path, sample }));
`;

  beforeAll(() => {
    const trained = runInProject(['node_modules/rnn/bin/rnn.js', 'train', ...TINY_RUN, '--max-steps', '2', '--out', 'tiny.json']);
    if (trained.status !== 0 || trained.stderr !== '') throw new Error(`rnn train from the tarball failed: ${trained.stderr}`);
  });

  it('runs: the rnn command trains on the bundled corpus, and a module imports the library', () => {
    writeFileSync(join(dir, 'use.mjs'), `import { loadModel } from 'rnn';\n${USE}`);
    const used = runInProject(['use.mjs']);
    expect(used.stderr).toBe('');
    const { corpus, sample } = JSON.parse(used.stdout) as { corpus: string; sample: string };
    expect(corpus).toBe(join(dir, 'node_modules', 'rnn', DEFAULT_CORPUS));
    expect(sample).toHaveLength(5);
  });

  it('is required from CommonJS where Node requires ES modules (20.19 and later), else Node says to import it', () => {
    writeFileSync(join(dir, 'use.cjs'), `const { loadModel } = require('rnn');\n${USE}`);
    const used = runInProject(['use.cjs']);
    if (process.features.require_module) {
      expect(used.stderr).toBe('');
      expect(JSON.parse(used.stdout)).toHaveProperty('sample');
    } else {
      expect(used.stderr).toContain('ERR_REQUIRE_ESM');
    }
  });
});
