#!/usr/bin/env node
// The `rnn` command: a thin launcher over the compiled CLI in dist/.
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
try {
  ({ main } = await import(entry.href));
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('rnn: not built yet: run `npm install` (or `npm run build`) in the project folder\n');
    process.exit(1);
  }
  throw err;
}
process.exitCode = await main(process.argv);
