/**
 * The PyTorch peer (bench/torch_peer.py) as a child process the bench sends one request at a
 * time: on RNN_TORCH_PYTHON where it is set, else the python found first of the repository's
 * .venv/bin/python and python3 that can `import torch`. While the bench measures rnn, the peer
 * waits on its stdin, and the other way round, so the two take turns on the same cores.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT } from './repo.js';
import { endedWithBench } from './ending.js';

const SCRIPT = join(ROOT, 'bench', 'torch_peer.py');

/** How to make the peer available, printed when no python imports torch. */
const PEER_INSTALL = 'python3 -m venv .venv && .venv/bin/pip install torch';

/** The variable naming the python the peer runs on, as it names the tests' (docs/testing.md). */
const PYTHON_VARIABLE = 'RNN_TORCH_PYTHON';

/** Why `python` cannot run the peer, with what to do: null when it imports torch. */
function torchMissing(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  if (probe.error !== undefined) return `does not run here (${(probe.error as NodeJS.ErrnoException).code}): name a python that imports torch`;
  return probe.status === 0 ? null : `does not import torch (install it: ${python} -m pip install torch)`;
}

/**
 * The python the peer runs on: RNN_TORCH_PYTHON's where it is set (and imports torch), else the
 * first of the repository's .venv/bin/python and python3 that imports torch; or, where there is
 * none, why, with how to install it.
 */
export function findPython(): { python: string } | { missing: string } {
  const named = process.env[PYTHON_VARIABLE];
  if (named !== undefined && named !== '') {
    const why = torchMissing(named);
    return why === null ? { python: named } : { missing: `${PYTHON_VARIABLE}=${named} ${why}` };
  }
  for (const python of [join(ROOT, '.venv', 'bin', 'python'), 'python3']) {
    if (torchMissing(python) === null) return { python };
  }
  return { missing: `no python here imports torch (install it: ${PEER_INSTALL}, or name one that does in ${PYTHON_VARIABLE})` };
}

/**
 * A process of the peer's. `start` resolves once it has imported torch and `close` once it has
 * exited, so that its start (about two seconds of a core, torch's import) and its end (half a
 * second to one, torch's teardown) fall in no window the bench measures, rnn's or the yardstick's.
 */
export class TorchPeer {
  private readonly answers: Array<(line: string) => void> = [];
  /** torch's version, as the peer gave it in answer to its first request. */
  torchVersion = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.answers.shift()?.(line));
    child.stderr.pipe(process.stderr);
  }

  /** A peer on `python`, once it has answered a first request (torch imported); rejects if it exits first. */
  static async start(python: string): Promise<TorchPeer> {
    const peer = new TorchPeer(endedWithBench(spawn(python, [SCRIPT], { stdio: 'pipe' })));
    peer.torchVersion = (await peer.request<{ torch: string }>({ cmd: 'info' })).torch;
    return peer;
  }

  /** Sends one request and resolves with its answer; rejects if the peer answers an error or exits. */
  request<T>(body: Record<string, unknown>): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the PyTorch peer exited (code ${code})`));
      this.child.once('exit', onExit);
      this.answers.push((line) => {
        this.child.off('exit', onExit);
        const answer = JSON.parse(line) as T & { error?: string };
        if (answer.error !== undefined) reject(new Error(`the PyTorch peer: ${answer.error}`));
        else resolve(answer);
      });
      this.child.stdin.write(`${JSON.stringify(body)}\n`);
    });
  }

  /** Ends the peer: resolves once its process has exited. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolve();
        return;
      }
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}
