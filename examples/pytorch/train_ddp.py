"""Train an rnn model on a prepared folder with PyTorch DistributedDataParallel.

    rnn prepare corpus/ --out data/corpus
    rnn export checkpoints/RUN/best.json --format safetensors --out start.safetensors   # optional
    python examples/pytorch/train_ddp.py data/corpus --init start.safetensors --out run/ --check 4   # optional
    torchrun --nproc_per_node 4 examples/pytorch/train_ddp.py data/corpus --init start.safetensors --out run/
    rnn import run/model.safetensors --out checkpoints/from-torch.json

The data and the loop are rnn's (src/text/batches.ts, src/train/trainer.ts): the training
stream is cut into B contiguous rows; step s feeds columns s*T .. s*T+T-1 of every row and
targets the tokens one to the right, the recurrent state carried from step to step (truncated
BPTT) and reset at each epoch's start. The B rows are split over the ranks, B/W each, so the
gradient DDP averages is the gradient of the mean loss over all B*T positions, as in rnn. Adam,
clip_grad_value_ then clip_grad_norm_, and rnn's learning-rate schedule (scheduled_lr). The validation loss
is rnn's: val.bin cut into min(B, (N-1)//T) contiguous rows, scored in windows of T from a zero
state, the sum over every prediction divided by their number.

Every process checks what the run reads (the flags, the folder, the --init and --score files,
--out, the run --resume goes on with) before it starts anything, torch not yet imported but to read that run; bad input ends it with one line
and exit status 2 (torchrun, which stops the other processes once one has failed, then adds its own report). --check N
checks the same for a run on N processes, with plain python and no torchrun, and trains nothing.

The run's state (state.pt in --out: weights, Adam, the step, the carried state of every row, each rank's random state) is
saved at its end and when a signal stops it, all ranks at the same step; --resume goes on from it.

Plain PyTorch, numpy and safetensors; gloo on CPUs, nccl on GPUs. This file is the command, its flags and main;
ddp_input.py checks what a run reads, without torch; ddp_output.py keeps --out whole (its lock, a stopping signal);
ddp_training.py is the model and the loop.
"""

import argparse
import math
import os
import signal

from ddp_input import DROPOUT_RANGE, GATES, STATE_FILE, fail, is_dropout, plan, ranks
from ddp_output import STOP, STOPPING_SIGNALS


class Given(argparse.Action):
    """argparse's store, noting the flag in `given`: a flag left at its default is not there (model_config refuses those
    given that contradict the --init file, resumed_settings those that contradict the saved run)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = namespace.given | {self.dest}


class Parser(argparse.ArgumentParser):
    """argparse, its errors (a flag unknown, missing or malformed) as fail's one line."""

    def error(self, message):
        fail(f"{message} (see --help)")


def bounded(kind, valid, expected):
    """An argparse type: a `kind` (int or float) for which `valid` holds, else an error naming `expected`."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not valid(value):
            raise argparse.ArgumentTypeError(f"must be {expected} (got {text})")
        return value
    return parse


COUNT = bounded(int, lambda n: n >= 1, "an integer >= 1")
STEPS = bounded(int, lambda n: n >= 0, "an integer >= 0")
POSITIVE = bounded(float, lambda x: x > 0, "a number > 0")
LIMIT = bounded(float, lambda x: x >= 0, "a number >= 0 (0: off)")
DROPOUT = bounded(float, is_dropout, DROPOUT_RANGE)
DECAY = bounded(float, lambda x: 0 < x <= 1, "a number > 0 and <= 1")
# rnn's seeds (SEED_MAX, src/input/settings.ts)
SEED = bounded(int, lambda n: 0 <= n <= 0xFFFFFFFF, "an integer from 0 to 4294967295")


def parse_args():
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="a prepared folder (rnn prepare): meta.json, train.bin, val.bin")
    p.add_argument("--out", required=True,
                   help=f"folder for model.safetensors (rnn import reads it), summary.json and {STATE_FILE} (--resume goes on from it)")
    p.add_argument("--force", action="store_true",
                   help=f"replace the model.safetensors, summary.json and {STATE_FILE} an earlier run wrote to --out")
    p.add_argument("--resume", action="store_true",
                   help=f"go on with the run saved in --out ({STATE_FILE}, written at its end or when a signal stopped it) where it "
                        "stopped, to the limits given (totals) or its own; the architecture, --dropout, --batch, --seq-len, --seed, the "
                        "number of ranks and the data are its own; --init may be left out, or be the file it started from")
    p.add_argument("--init", help="start from this rnn export --format safetensors file, its config and weights (--cell, --layers, "
                   "--hidden, --embed: leave them out or give its values; --dropout, left out, is its dropout); else a fresh model from "
                   "the flags below")
    p.add_argument("--cell", choices=sorted(GATES), default="gru", action=Given, help="recurrent cell (default %(default)s)")
    p.add_argument("--layers", type=COUNT, default=2, action=Given, help="stacked recurrent layers (default %(default)s)")
    p.add_argument("--hidden", type=COUNT, default=192, action=Given, help="hidden size H (default %(default)s)")
    p.add_argument("--embed", type=COUNT, default=64, action=Given, help="embedding size E (default %(default)s)")
    p.add_argument("--dropout", type=DROPOUT, default=0.0, action=Given, help="dropout between layers, 0 <= p < 1 (default the --init file's, else %(default)s)")
    p.add_argument("--batch", type=COUNT, default=32, action=Given, help="rows B over all ranks, a multiple of the number of ranks (default %(default)s)")
    p.add_argument("--seq-len", type=COUNT, default=50, action=Given, help="BPTT window T (default %(default)s)")
    p.add_argument("--lr", type=POSITIVE, default=3e-3, action=Given, help="learning rate (default %(default)s)")
    p.add_argument("--lr-schedule", choices=["cosine", "epoch"], action=Given, default="cosine",
                   help="cosine: from --lr to 0 over the run; epoch: times --lr-decay each epoch (default %(default)s)")
    p.add_argument("--lr-decay", type=DECAY, action=Given, default=0.8,
                   help="with --lr-schedule epoch: learning-rate factor per epoch, 0 < f <= 1 (default %(default)s)")
    p.add_argument("--clip", type=LIMIT, default=5.0, action=Given, help="max global L2 norm of the gradient; 0: off (default %(default)s)")
    p.add_argument("--clip-value", type=LIMIT, default=0.0, action=Given, help="clip each gradient element to ±v; 0: off (default %(default)s)")
    p.add_argument("--epochs", type=COUNT, default=None, action=Given, help="train until this many epochs (1 when no limit is given)")
    p.add_argument("--max-steps", type=COUNT, default=None, action=Given, help="train until this many steps")
    p.add_argument("--eval-every", type=STEPS, default=0, help="steps between validations; 0: only at the end (default %(default)s)")
    p.add_argument("--log-every", type=COUNT, default=10, help="a progress line every this many steps (default %(default)s)")
    p.add_argument("--seed", type=SEED, default=1337, action=Given, help="random seed, 0 ... 4294967295 (default %(default)s)")
    p.add_argument("--score", nargs="*", default=[],
                   help="token files (ids as in train.bin) scored at the end, each as rnn eval perplexity scores a text: "
                        "<EOS> (id 0) put before and after the ids unless they start or end with it")
    p.add_argument("--check", type=COUNT, metavar="N",
                   help="check the input for a run on N processes and exit, training nothing (plain python, no torchrun)")
    p.set_defaults(given=frozenset())
    return p.parse_args()


def main():
    for stopping in STOPPING_SIGNALS:
        signal.signal(stopping, STOP)
    args = parse_args()
    if args.check is not None:
        run = plan(args, args.check)
        print(f"{ranks(args.check)}: {run.summary}; the input is good", flush=True)
        return
    if "WORLD_SIZE" not in os.environ:
        fail("start it with torchrun (torchrun --standalone --nproc_per_node N train_ddp.py ...), "
             "or check its input with --check N")
    run = plan(args, int(os.environ["WORLD_SIZE"]))
    # torch is imported only now that the input is good: its load (2 s and 220 MB a process) is not spent on bad input
    from ddp_training import train_as_rank
    train_as_rank(args, run)


if __name__ == "__main__":
    main()
