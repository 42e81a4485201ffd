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
--out) before it starts anything; bad input ends it with one line and exit status 2 (torchrun,
which stops the other processes once one has failed, then adds its own report). --check N checks the same for a run on N
processes, with plain python and no torchrun, and trains nothing.

The run's state (state.pt in --out: weights, Adam, the step, the carried state of every row, each rank's random state) is
saved at its end and when a signal stops it, all ranks at the same step; --resume goes on from it.

Plain PyTorch, numpy and safetensors; gloo on CPUs, nccl on GPUs.
"""

import argparse
import atexit
import contextlib
import datetime
import errno
import hashlib
import pickle
import itertools
import json
import math
import os
import signal
import socket
import sys
import threading
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel as DDP

PREPARED_FORMAT = "rnn-prepared/1"
INTEROP_FORMAT = "rnn-state/1"
DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
EOS = 0  # <EOS>'s id: it ends each document and opens the next (docs/text.md)


class LanguageModel(nn.Module):
    """Embedding -> stacked LSTM / GRU / tanh RNN -> Linear, under rnn-state/1's tensor names."""

    def __init__(self, config, dropout):
        super().__init__()
        self.cell = config["cell"]
        self.embed = nn.Embedding(config["vocab_size"], config["embed_dim"])
        self.rnn = CELLS[self.cell](config["embed_dim"], config["hidden_size"], config["num_layers"],
                                    batch_first=True, dropout=dropout if config["num_layers"] > 1 else 0.0)
        self.head = nn.Linear(config["hidden_size"], config["vocab_size"])

    def forward(self, tokens, state=None):  # tokens [B, T] -> logits [B, T, V], state
        out, state = self.rnn(self.embed(tokens), state)
        return self.head(out), state


def detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def scheduled_lr(args, epoch, done):
    """rnn's learning rate for a step with the fraction `done` of the run behind it (src/engine/optim.ts)."""
    if args.lr_schedule == "epoch":
        return args.lr * args.lr_decay ** epoch
    return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, done))))


# exit statuses: bad input; --out held by another running run, a refusal of the moment, not of the input, which rnn train
# ends with too (EXIT.badInput, src/cli/errors.ts)
BAD_INPUT, IN_USE = 2, 1


def fail(message, status=BAD_INPUT):
    """Bad input: one line and exit status 2 (or `status`). Each process writes it: torchrun stops the rest once the first has failed,
    so one that left it to another could be stopped before that one had written it. The line and its end go in one write,
    which two processes sharing torchrun's stderr cannot interleave (print writes them apart)."""
    sys.stderr.write(f"train_ddp.py: {message}\n")
    sys.stderr.flush()
    sys.exit(status)


class Given(argparse.Action):
    """argparse's store, noting the flag in `given`: a flag left at its default is not there (model_config refuses those
    given that contradict the --init file, resumed_settings those that contradict the saved run)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = namespace.given | {self.dest}


# the architecture flags and the rnn-state/1 config fields they set
ARCHITECTURE = {"cell": "cell", "layers": "num_layers", "hidden": "hidden_size", "embed": "embed_dim"}
# with --resume: the settings a run keeps (one given with another value is refused) and those it may change (one left out
# is the saved run's; the limits only where neither is given); --eval-every, --log-every and --score are each part's own
KEPT_ON_RESUME = ("cell", "layers", "hidden", "embed", "dropout", "batch", "seq_len", "seed")
CHANGEABLE_ON_RESUME = ("lr", "lr_schedule", "lr_decay", "clip", "clip_value", "max_steps", "epochs")
LIMITS = ("max_steps", "epochs")


def flag(dest, value):
    """`--seq-len 16`: a setting as its flag gives it."""
    return f"--{dest.replace('_', '-')} {value}"


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
DROPOUT = bounded(float, lambda x: 0 <= x < 1, "a number from 0 to below 1")
DECAY = bounded(float, lambda x: 0 < x <= 1, "a number > 0 and <= 1")
# rnn's seeds (SEED_MAX, src/input/settings.ts)
SEED = bounded(int, lambda n: 0 <= n <= 0xFFFFFFFF, "an integer from 0 to 4294967295")


LEVELS = ("char", "word")
DOCS = ("file", "line", "blank", "sentence")


def read_meta(folder):
    """The folder's meta.json, each field this script reads checked (a damaged one ends the run with one line)."""
    path = os.path.join(folder, "meta.json")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        fail(f"{path}: {err.strerror if isinstance(err, OSError) else 'not JSON'}: give a folder made by rnn prepare")
    if not isinstance(meta, dict) or meta.get("format") != PREPARED_FORMAT:
        fail(f"{path}: not {PREPARED_FORMAT}: make the folder with rnn prepare")
    problem = meta_problem(meta)
    if problem is not None:
        fail(f"{path}: {problem}: prepare the folder again")
    return meta


def is_prepared(folder):
    """Whether the folder is one rnn prepare made: its meta.json names the format."""
    try:
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == PREPARED_FORMAT


def meta_problem(meta):
    """What is wrong with the fields of a prepared folder's meta.json that this script reads, or None."""
    def integer(key, least):
        value = meta[key]
        return isinstance(value, int) and not isinstance(value, bool) and value >= least
    word = meta.get("level") == "word"
    for key, least in (("trainTokens", 0), ("valTokens", 0), ("vocabSize", 2), ("wordRule", 1)):
        if key == "wordRule" and not word:
            continue
        if key not in meta:
            return f"no {key}"
        if not integer(key, least):
            return f"{key} is {json.dumps(meta[key])}, expected an integer >= {least}"
    if meta.get("dtype") not in DTYPES:
        return "dtype is not one of " + ", ".join(DTYPES)
    if meta.get("level") not in LEVELS:
        return f"level is {json.dumps(meta.get('level'))}, expected \"char\" or \"word\""
    vocab = meta.get("vocab")
    if not (isinstance(vocab, list) and len(vocab) == meta["vocabSize"] and all(isinstance(token, str) for token in vocab)):
        return f"vocab is not a list of vocabSize ({meta['vocabSize']}) tokens"
    settings = meta.get("settings", {})
    if not isinstance(settings, dict):
        return f"settings is {json.dumps(settings)}, expected an object"
    if settings.get("docs", "file") not in DOCS:
        return f"settings.docs is {json.dumps(settings.get('docs'))}, expected one of {', '.join(DOCS)}"
    if settings.get("docs") == "sentence" and "sentenceRule" in meta and not integer("sentenceRule", 1):
        return f"sentenceRule is {json.dumps(meta['sentenceRule'])}, expected an integer >= 1"
    spacing = meta.get("spacing", {})
    if not (isinstance(spacing, dict) and all(side in ("before", "after") and isinstance(marks, dict) and
                                              all(isinstance(space, str) for space in marks.values())
                                              for side, marks in spacing.items())):
        return f"spacing is {json.dumps(spacing)}, expected an object of before and after, each of marks and their spaces"
    return None


def tokens(folder, meta, part):
    """The ids of train.bin or val.bin, memory-mapped (nothing is read until used)."""
    count = meta["trainTokens"] if part == "train" else meta["valTokens"]
    path = os.path.join(folder, f"{part}.bin")
    dtype = DTYPES[meta["dtype"]]
    try:
        size = os.path.getsize(path)
    except OSError as err:
        fail(f"{path}: {err.strerror}: prepare the folder again")
    if size != count * dtype.itemsize:
        fail(f"{path} holds {size // dtype.itemsize} tokens, meta.json says {count}: prepare the folder again")
    if count == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


# the rnn-state/1 config fields of how a text is read and written back, which the folder's text settles (reading_rules)
READING_FIELDS = ("level", "word_rule", "docs", "sentence_rule", "spacing")


def reading_rules(meta):
    """The rnn-state/1 config fields of how the folder's text was read, by which the trained model reads a text
    (docs/interop.md), as rnn export writes them: at the word level, the tokenizer rules' version its ids were made under
    (rnn prepare --level word); the document rule (rnn prepare --docs), none for --docs file, and with --docs sentence the
    sentence rules' version (a folder that records none was cut under version 1); the marks its text spaces, where it
    spaces any (docs/words.md), by which the model's tokens are written back."""
    rules = {"level": "word", "word_rule": meta["wordRule"]} if meta["level"] == "word" else {}
    if meta["level"] == "word" and meta.get("spacing"):
        rules["spacing"] = meta["spacing"]
    docs = meta.get("settings", {}).get("docs", "file")
    if docs != "file":
        rules |= {"docs": docs, **({"sentence_rule": meta.get("sentenceRule", 1)} if docs == "sentence" else {})}
    return rules


def vocabularies_apart(model, folder):
    """`5,058 tokens and 2,787; id 2,787: "—" in the model, none in the folder`: their sizes and the first id they read apart."""
    id = next(i for i in range(max(len(model), len(folder))) if i >= min(len(model), len(folder)) or model[i] != folder[i])
    token = lambda vocab: json.dumps(vocab[id], ensure_ascii=False) if id < len(vocab) else "none"
    return f"{len(model):,} tokens and {len(folder):,}; id {id:,}: {token(model)} in the model, {token(folder)} in the folder"


def model_config(args, meta):
    """The rnn-state/1 config: the --init file's (its tensors' shapes checked, none read; the architecture flags given must
    be its values), else the flags'; it must read the folder's vocabulary, and it reads a text as the folder's was read
    (reading_rules: its tokenizer rules and document rule), whatever the --init file's were."""
    if args.init is None:
        config = {"cell": args.cell, "vocab_size": meta["vocabSize"], "embed_dim": args.embed,
                  "hidden_size": args.hidden, "num_layers": args.layers}
        return config | reading_rules(meta)
    export = "write one with rnn export --format safetensors"
    if os.path.isdir(args.init):
        held = sorted(name for name in os.listdir(args.init) if name.endswith(".safetensors"))
        name = f"name the file, e.g. --init {os.path.join(args.init, held[0])}" if held else f"name a .safetensors file ({export})"
        fail(f"--init {args.init} is a folder: {name}")
    try:
        with open(args.init, "rb"):
            pass
    except OSError as err:
        fail(f"--init {args.init}: {err.strerror}")
    try:
        with safe_open(args.init, "pt") as f:
            header = f.metadata() or {}
            shapes = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except (SafetensorError, OSError):
        fail(f"--init {args.init}: not a safetensors file ({export})")
    try:
        if header.get("format") != INTEROP_FORMAT:
            raise ValueError
        config, vocab = json.loads(header["config"]), json.loads(header["vocab"])
        if config.get("cell") not in CELLS or type(config.get("num_layers")) is not int:
            raise ValueError
        if config.get("vocab_size") != len(vocab):
            fail(f"--init {args.init}: its config's vocab_size is {json.dumps(config.get('vocab_size'))}, and its vocabulary holds "
                 f"{len(vocab):,} tokens ({export})")
        # four tensors a layer, and the embedding and the head's two: a model of more layers is not built (nor its modules)
        if 4 * config["num_layers"] + 3 != len(shapes):
            fail(f"--init {args.init}: its tensors are not those its config describes ({export})")
        with torch.device("meta"):
            expected = {name: tuple(t.shape) for name, t in LanguageModel(config, 0.0).state_dict().items()}
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError):
        fail(f"--init {args.init}: not an rnn-state/1 safetensors file ({export})")
    if shapes != expected:
        fail(f"--init {args.init}: its tensors are not those its config describes ({export})")
    clashes = [flag for flag, field in ARCHITECTURE.items() if flag in args.given and getattr(args, flag) != config[field]]
    if clashes:
        given = ", ".join(f"--{flag} {getattr(args, flag)}" for flag in clashes)
        has = ", ".join(f"--{flag} {config[ARCHITECTURE[flag]]}" for flag in clashes)
        one = len(clashes) == 1
        fail(f"{given} contradict{'s' if one else ''} --init {args.init}, which has {has}: "
             f"leave {'it' if one else 'them'} out, a run from --init keeps its architecture")
    level = config.get("level", "char")
    if level != meta["level"]:
        fail(f"--init {args.init}: a {level}-level model, and {args.data} holds {meta['level']}-level tokens: "
             f"prepare the corpus again with --level {level}")
    if vocab != meta["vocab"]:
        fail(f"--init {args.init}: its vocabulary is not the one of {args.data} id for id ({vocabularies_apart(vocab, meta['vocab'])}), "
             "and this script reads the folder's ids as the model's: prepare the folder from the text and settings the model's vocabulary "
             "was built from (one --extend-vocab grew has none), or fine-tune in rnn, which reads a folder by token: "
             f"rnn train {args.data} --init-from {args.init}")
    return {field: value for field, value in config.items() if field not in READING_FIELDS} | reading_rules(meta)


# the largest weight a trained model holds, beyond which rnn import refuses one as damage (WEIGHT_LIMIT, src/checkpoint/integrity.ts)
WEIGHT_LIMIT = 1e6


def first_unsound(tensors):
    """The first weight not finite or beyond ±WEIGHT_LIMIT, as rnn import names one: `"rnn.weight_hh_l0"[17] is NaN`; else None."""
    for name, tensor in tensors.items():
        unsound = (~(tensor.abs() <= WEIGHT_LIMIT)).flatten().nonzero()
        if len(unsound) > 0:
            at = unsound[0].item()
            value = tensor.flatten()[at].item()
            shown = "NaN" if math.isnan(value) else f"{value:.9g}".replace("inf", "Infinity")
            return f"\"{name}\"[{at}] is {shown}"
    return None


# the longest checkpoint rnn import writes, and the room in it for all but the tensors (src/checkpoint/size.ts)
MAX_CHECKPOINT_CHARS = 2 ** 29 - 24
CHECKPOINT_OVERHEAD_CHARS = 16 << 20
# what the checkpoint of an import holds besides the weights: Adam's two moments, and the state of its default batch
IMPORT_COPIES, IMPORT_BATCH = 3, 32


def parameter_count(config):
    """The model's parameters, in arithmetic alone (nothing of its size is built)."""
    V, E, H, L = config["vocab_size"], config["embed_dim"], config["hidden_size"], config["num_layers"]
    G = {"lstm": 4, "gru": 3, "rnn": 1}[config["cell"]] * H
    return V * E + G * E + G * H * (2 * L - 1) + G * 2 * L + V * H + V


def checkpoint_chars(config):
    """The most characters of the checkpoint rnn import writes of the model (checkpointChars, src/checkpoint/size.ts): each
    tensor's float32 bytes as base64, three copies, the carried state, and room for the rest."""
    V, E, H, L = config["vocab_size"], config["embed_dim"], config["hidden_size"], config["num_layers"]
    G = {"lstm": 4, "gru": 3, "rnn": 1}[config["cell"]] * H
    base64 = lambda floats: 4 * -(-4 * floats // 3)
    sizes = [(V * E, 1), (G * E, 1), (G * H, 2 * L - 1), (G, 2 * L), (V * H, 1), (V, 1)]
    carried = (2 if config["cell"] == "lstm" else 1) * L * IMPORT_BATCH * H
    return sum(IMPORT_COPIES * count * base64(size) for size, count in sizes) + base64(carried) + CHECKPOINT_OVERHEAD_CHARS


def refuse_unimportable(args, config):
    """A new model that rnn import would refuse, too large for its checkpoint, ends the run before it is built, naming the
    architecture flags given and the largest hidden size that fits, as rnn import does."""
    if checkpoint_chars(config) <= MAX_CHECKPOINT_CHARS:
        return
    low, high = 0, config["hidden_size"]
    while low < high:
        middle = (low + high + 1) // 2
        if middle >= 1 and checkpoint_chars(config | {"hidden_size": middle}) <= MAX_CHECKPOINT_CHARS:
            low = middle
        else:
            high = middle - 1
    flags = " ".join(f"--{flag} {getattr(args, flag)}" for flag in ARCHITECTURE if flag in args.given) or "the default model"
    mib = lambda chars: f"{-(-chars // (1 << 20)):,} MiB"
    fit = (f"--hidden {low} ({parameter_count(config | {'hidden_size': low}):,} parameters) is the largest that fits" if low > 0
           else "its vocabulary, embedding and layers alone are too large: give a smaller --embed or fewer --layers")
    fail(f"{flags}: a {config['num_layers']}-layer {config['cell']} of hidden size {config['hidden_size']} "
         f"({parameter_count(config):,} parameters) needs a checkpoint of about {mib(checkpoint_chars(config))} of JSON in rnn import, "
         f"more than the {mib(MAX_CHECKPOINT_CHARS)} one file can hold; {fit}")


def init_weights(path):
    """The --init file's tensors (model_config checked their names and shapes), each weight finite and within
    ±WEIGHT_LIMIT as rnn import reads it: the first that is not ends the run."""
    tensors = load_file(path)
    unsound = first_unsound(tensors)
    if unsound is not None:
        fail(f"--init {path}: {unsound}, expected a weight within ±{WEIGHT_LIMIT:.0f} "
             "(no training writes it: export the model again from a sound checkpoint)")
    return tensors


def scored_ids(path, meta):
    """A --score file's ids, each in the vocabulary, framed as rnn frames a text it scores (docs/text.md): <EOS> before
    them unless they start with it, and after them unless they end with it, so that the closing <EOS> is predicted. Ids
    that start and end with <EOS> (one document framed already, or whole documents as train.bin holds them) stay as they
    are; no ids at all are the empty document, <EOS> <EOS>. A file that ends in part of an id is refused: its ids are not of
    train.bin's dtype."""
    dtype = DTYPES[meta["dtype"]]
    try:
        ids = np.fromfile(path, dtype=dtype)
        size = os.path.getsize(path)
    except OSError as err:
        fail(f"--score {path}: {err.strerror}")
    if size % dtype.itemsize != 0:
        fail(f"--score {path}: {size:,} bytes are not whole {meta['dtype']} token ids ({dtype.itemsize} bytes each, as in train.bin)")
    if len(ids) > 0 and ids.max() >= meta["vocabSize"]:
        fail(f"--score {path}: expected {meta['dtype']} token ids as in train.bin, each below {meta['vocabSize']}")
    eos = np.array([EOS], dtype=ids.dtype)
    if len(ids) == 0 or ids[0] != EOS:
        ids = np.concatenate((eos, ids))
    if len(ids) == 1 or ids[-1] != EOS:
        ids = np.concatenate((ids, eos))
    return ids


# what rnn train writes to a run's folder: its checkpoints (RUN_FOLDER_FILES, src/checkpoint/find.ts)
RUN_FILES = ("latest.json", "best.json")
# the run's state in --out, by which --resume goes on with it: written with its files at its end, alone when a signal stops it
STATE_FILE = "state.pt"
STATE_FORMAT = "train_ddp-state/1"
# what an earlier run of this script wrote to --out, which a new run replaces only with --force
RESULT_FILES = ("model.safetensors", STATE_FILE)


def data_identity(meta):
    """What tells a prepared folder's data from another's: the fingerprint of the text it was made from, its settings, its
    sizes and its vocabulary (a copy of the folder elsewhere has the same)."""
    corpus = meta.get("corpus")
    fields = {key: meta.get(key) for key in ("level", "wordRule", "sentenceRule", "dtype", "trainTokens", "valTokens", "settings", "vocab")}
    fields["corpus"] = corpus.get("sha256") if isinstance(corpus, dict) else None
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def run_settings(args, config, world, meta):
    """The settings --resume reads back from the saved run: those of the resume table (the architecture as the model has it),
    the number of ranks, and the data's folder and identity."""
    settings = {dest: getattr(args, dest) for dest in KEPT_ON_RESUME + CHANGEABLE_ON_RESUME if dest not in ARCHITECTURE}
    return settings | {flag: config[field] for flag, field in ARCHITECTURE.items()} | {
        "ranks": world, "data": os.path.abspath(args.data), "data_identity": data_identity(meta)}


def saved_run(args):
    """The state of the run saved in --out (STATE_FILE), for --resume: none there, or not one this script wrote, ends the run."""
    path = os.path.join(args.out, STATE_FILE)
    if not os.path.isfile(path):
        fail(f"--resume: --out {args.out} holds no saved run (no {STATE_FILE}, which a run writes at its end or when a signal stops it "
             "while it trains): start it without --resume")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(saved, dict) or saved.get("format") != STATE_FORMAT:
            raise ValueError
        settings = saved["settings"]
        if not all(key in settings for key in KEPT_ON_RESUME + CHANGEABLE_ON_RESUME + ("ranks", "data", "data_identity")):
            raise ValueError
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError):
        fail(f"--resume: {path} is not the saved state of a train_ddp.py run: start the run again without --resume, with --force")
    return saved


def resumed_settings(args, saved, world, meta):
    """Sets args to the saved run's settings: a kept one given with another value, another number of ranks or other data is
    refused, naming the saved run's value; a changeable one left out is the saved run's (the limits, where neither is given)."""
    settings = saved["settings"]
    clashes = [dest for dest in KEPT_ON_RESUME if dest in args.given and getattr(args, dest) != settings[dest]]
    if clashes:
        one = len(clashes) == 1
        fail(f"{', '.join(flag(dest, getattr(args, dest)) for dest in clashes)} contradict{'s' if one else ''} the run saved in --out "
             f"{args.out}, which has {', '.join(flag(dest, settings[dest]) for dest in clashes)}: leave {'it' if one else 'them'} out, "
             "a resumed run keeps its settings")
    if settings["ranks"] != world:
        fail(f"--resume: the run saved in --out {args.out} trained on {ranks(settings['ranks'])}, and this one has {ranks(world)}: "
             f"resume it on {settings['ranks']} (torchrun --nnodes × --nproc_per_node)")
    if settings["data_identity"] != data_identity(meta):
        fail(f"{args.data} is not the data the run saved in --out {args.out} trained on, {settings['data']}: give that folder, or "
             "a copy of it")
    restored = [dest for dest in KEPT_ON_RESUME + CHANGEABLE_ON_RESUME if dest not in args.given]
    if any(dest in args.given for dest in LIMITS):
        restored = [dest for dest in restored if dest not in LIMITS]
    for dest in restored:
        setattr(args, dest, settings[dest])


def refuse_earlier_run(args):
    """--out with what an earlier run of this script wrote, without --force or --resume, is refused; --resume with --force or
    --init, which would start the run anew, is refused too."""
    if args.resume and args.force:
        fail("--resume goes on with the run saved in --out, --force starts a new one over it: give one of them")
    if args.resume and args.init is not None:
        fail(f"--init {args.init}: a resumed run goes on from the weights saved in --out {args.out}: leave --init out")
    earlier = [name for name in RESULT_FILES if os.path.exists(os.path.join(args.out, name))]
    if earlier and not args.force and not args.resume:
        go_on = f", or --resume to go on with it ({STATE_FILE})" if STATE_FILE in earlier else ""
        fail(f"--out {args.out} holds the {earlier[0]} of an earlier run: give another --out, or --force to replace it{go_on}")


def plan(args, world):
    """What the run reads and how long it is, checked before anything starts: bad input ends here, with one line."""
    meta = read_meta(args.data)
    train, val = tokens(args.data, meta, "train"), tokens(args.data, meta, "val")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        fail(f"--out {args.out}: not a folder")
    parent = os.path.abspath(args.out)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.access(parent, os.W_OK):
        fail(f"--out {args.out}: {parent} is not writable")
    holder = lock_owner(os.path.join(args.out, LOCK_FILE))
    if holder is not None and not owner_is_gone(holder):
        fail(in_use(args.out, holder), IN_USE)
    held = [name for name in RUN_FILES if os.path.exists(os.path.join(args.out, name))]
    if held:
        fail(f"--out {args.out} is the folder of an rnn train run (it holds its {held[0]}): give another --out, a folder of its own "
             "(--force replaces only what this script wrote)")
    if is_prepared(args.out):
        fail(f"--out {args.out} is a prepared folder (rnn prepare wrote its meta.json): give another --out, a folder of its own")
    refuse_earlier_run(args)
    saved = saved_run(args) if args.resume else None
    if saved is not None:
        resumed_settings(args, saved, world, meta)
    if args.batch % world != 0:
        fail(f"--batch {args.batch} must be a multiple of the {ranks(world)}")
    config = model_config(args, meta) if saved is None else saved["config"]
    if args.init is None and saved is None:
        refuse_unimportable(args, config)
    init = None if args.init is None else init_weights(args.init)
    scored = {path: scored_ids(path, meta) for path in args.score}
    B, T = args.batch, args.seq_len
    row_length = (len(train) - 1) // B
    steps_per_epoch = row_length // T
    if steps_per_epoch < 1:
        most_seq_len, most_batch = (len(train) - 1) // B, (len(train) - 1) // T // world * world
        fits = ([f"--seq-len {most_seq_len} or less" + (f" (with --batch {B})" if most_batch >= 1 else "")] if most_seq_len >= 1 else []) + \
               ([f"--batch {most_batch} or less" + (f" (with --seq-len {T})" if most_seq_len >= 1 else "")] if most_batch >= 1 else [])
        fail(f"train.bin holds {len(train):,} tokens, too few for --batch {B} --seq-len {T}, whose step reads {B * T + 1:,}: "
             + (" or ".join(f"give {fit}" for fit in fits) if fits else "prepare the folder from more text"))
    # as rnn train: the limits given, the first one reached; none given, one epoch
    limits = [n for n in (args.max_steps, None if args.epochs is None else args.epochs * steps_per_epoch) if n is not None]
    total_steps = min(limits) if limits else steps_per_epoch
    summary = f"{len(train):,} training tokens, {B} rows of {row_length:,}, {steps_per_epoch:,} steps per epoch, {total_steps:,} steps"
    if saved is not None:
        if total_steps <= saved["step"]:
            fail(f"--resume: the run saved in --out {args.out} has taken {saved['step']:,} steps, and its limits end it at "
                 f"{total_steps:,}: give a larger --max-steps or --epochs")
        summary += f", going on from step {saved['step']:,}"
    return argparse.Namespace(meta=meta, train=train, val=val, config=config, init=init, scored=scored, row_length=row_length,
                              steps_per_epoch=steps_per_epoch, total_steps=total_steps, summary=summary, saved=saved,
                              settings=run_settings(args, config, world, meta))


# --out's lock, rnn train's on its output (src/train/lock.ts): its file, beside where rnn train's latest checkpoint would be,
# and the owner written in it, so that each refuses the other's running output and takes over one whose process is gone
LOCK_FILE = "latest.json.lock"
# the suffix of a file written before it is put in place, then its writer's pid (TEMP_SUFFIX, src/checkpoint/files.ts)
TEMP_SUFFIX = ".tmp-"
# tries at the lock over locks left by ended runs, others racing for it (LOCK_ATTEMPTS, src/train/lock.ts)
LOCK_ATTEMPTS = 3


class Refused(Exception):
    """--out's lock, held by another run: the line that says so."""


class Lock:
    """This process's hold on --out: the lock file, and the --out folder it made to hold it (removed again with the lock
    where nothing was written there). `notice`: what to tell the user of a lock taken over."""

    def __init__(self, path, made, notice):
        self.path, self.made, self.notice, self.held = path, made, notice, True
        atexit.register(self.release)

    def release(self):
        if not self.held:
            return
        self.held = False
        try:
            os.remove(self.path)
        except OSError:
            pass
        if self.made is not None:
            try:
                os.rmdir(self.made)
            except OSError:
                pass


def in_use(out, owner):
    return (f"--out {out} is in use by another run (pid {owner['pid']} on {owner['host']}, since {owner['startedAt']}); "
            "wait for it to end, or choose another --out")


def lock_owner(path):
    """The pid, host and start of the process whose lock file is `path`; None where there is none or it is unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            owner = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or type(owner.get("pid")) is not int or not isinstance(owner.get("host"), str):
        return None
    return {"pid": owner["pid"], "host": owner["host"], "startedAt": str(owner.get("startedAt", "an unknown time"))}


def process_is_running(pid):
    """Whether a process with this id is here (kill(pid, 0): none where it says there is no such process)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def owner_is_gone(owner):
    """Whether the lock's process has ended: only knowable on this host."""
    return owner["host"] == socket.gethostname() and not process_is_running(owner["pid"])


def place_lock(source, path):
    """Puts the lock file `source` at `path` unless a lock is there (FileExistsError): by a hard link, or where the file
    system has none, by an exclusive create and a copy."""
    try:
        os.link(source, path)
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
        with open(source, "rb") as f:
            owner = f.read()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(owner)


def take_lock(out):
    """Takes --out's lock as rnn train takes its output's (takeLock, src/train/lock.ts): the owner (pid, host, start) is
    written to a file of its own, then hard-linked into place, which fails where a lock is; a lock whose process is gone
    (this host, no such pid) is moved aside and, unless another's lock took its place meanwhile, taken over with a notice;
    a live one is Refused, naming its process. Makes --out where it is not there."""
    made = None
    if not os.path.isdir(out):
        os.makedirs(out)
        made = out
    path = os.path.join(out, LOCK_FILE)
    owner_file = LOCK_FILE + TEMP_SUFFIX
    # the owner file of a process killed while it placed its lock
    for name in os.listdir(out):
        pid = name[len(owner_file):]
        if name.startswith(owner_file) and pid.isascii() and pid.isdigit() and int(pid) != os.getpid() and not process_is_running(int(pid)):
            try:
                os.remove(os.path.join(out, name))
            except OSError:
                pass
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mine = f"{path}{TEMP_SUFFIX}{os.getpid()}"
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "startedAt": started}
    with open(mine, "w", encoding="utf-8") as f:
        f.write(json.dumps(owner, separators=(",", ":")) + "\n")
    notice = None
    try:
        for attempt in itertools.count():
            try:
                place_lock(mine, path)
                break
            except FileExistsError:
                pass
            held = lock_owner(path)
            if held is not None and not owner_is_gone(held):
                raise Refused(in_use(out, held))
            if attempt >= LOCK_ATTEMPTS:
                raise Refused(f"--out {out}: others are taking its lock at this moment; try again, or choose another --out")
            aside = f"{path}.stale-{os.getpid()}"
            try:
                os.rename(path, aside)
            except OSError:
                continue  # gone meanwhile: try again
            moved = lock_owner(aside)
            if moved is not None and not owner_is_gone(moved):
                # another run took the lock between the look and the move: it goes back (unless a third one's is there now)
                try:
                    place_lock(aside, path)
                except OSError:
                    pass
                os.remove(aside)
                raise Refused(in_use(out, moved))
            os.remove(aside)
            left = "a run whose lock is unreadable" if moved is None else f"pid {moved['pid']}, which is no longer running"
            notice = f"took over {path}, left by {left}"
    except Refused:
        if made is not None:
            os.rmdir(made)
        raise
    finally:
        os.remove(mine)
    return Lock(path, made, notice)


def hold_out(args, me):
    """Rank 0 takes --out's lock (take_lock), held until the process ends; a refusal, which rank 0 writes, ends every rank
    with exit status IN_USE."""
    refusal = None
    if me.rank == 0:
        try:
            STOP.lock = take_lock(args.out)
        except Refused as refused:
            refusal = str(refused)
        else:
            if STOP.lock.notice is not None:
                sys.stderr.write(f"train_ddp.py: warning: {STOP.lock.notice}\n")
                sys.stderr.flush()
    refused = torch.tensor([0.0 if refusal is None else 1.0], device=me.device)
    dist.all_reduce(refused)
    if refused.item() > 0:
        if refusal is not None:
            sys.stderr.write(f"train_ddp.py: {refusal}\n")
        end_process_group(IN_USE)


def ranks(world):
    """`1 rank`, `8 ranks`."""
    return f"{world} rank{'' if world == 1 else 's'}"


def rows_of(rank, world, rows):
    """The contiguous rows of `rows` that `rank` takes: [rank*rows//world, (rank+1)*rows//world)."""
    return rank * rows // world, (rank + 1) * rows // world


def windows(data, first_row, row_count, row_length, start, width):
    """inputs and targets [rows, width] of rows first_row.. laid end to end, columns start..start+width-1."""
    x = np.empty((row_count, width), dtype=np.int64)
    y = np.empty((row_count, width), dtype=np.int64)
    for i in range(row_count):
        at = (first_row + i) * row_length + start
        chunk = np.asarray(data[at:at + width + 1], dtype=np.int64)
        x[i], y[i] = chunk[:-1], chunk[1:]
    return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def validation_loss(model, data, batch, seq_len, rank, world, device):
    """rnn's validation loss (EvalBatches): Σ loss / predictions over every rank's rows."""
    positions = max(0, len(data) - 1)
    rows = 0 if positions == 0 else max(1, min(batch, positions // seq_len))
    if rows == 0:
        return None
    row_length = positions // rows
    first, last = rows_of(rank, world, rows)
    total = torch.zeros(1, dtype=torch.float64, device=device)
    model.eval()
    state = None
    if last > first:
        for start in range(0, row_length, seq_len):
            width = min(seq_len, row_length - start)
            x, y = windows(data, first, last - first, row_length, start, width)
            logits, state = model(x.to(device), state)
            total += F.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(), reduction="sum").double()
    model.train()
    dist.all_reduce(total)
    return total.item() / (rows * row_length)


@torch.no_grad()
def score(model, ids, device):
    """Mean loss of ids framed by scored_ids, as one row from a zero state: reading ids[:-1], predicting ids[1:] (rnn eval
    perplexity of a text)."""
    model.eval()
    x = torch.as_tensor(np.asarray(ids[:-1], dtype=np.int64)).unsqueeze(0).to(device)
    y = torch.as_tensor(np.asarray(ids[1:], dtype=np.int64)).to(device)
    logits, _ = model(x)
    model.train()
    return F.cross_entropy(logits[0].double(), y, reduction="mean").item()


def save(model, config, vocab, path):
    tensors = {name: t.detach().to("cpu", torch.float32).contiguous() for name, t in model.state_dict().items()}
    metadata = {"format": INTEROP_FORMAT, "config": json.dumps(config), "vocab": json.dumps(vocab)}
    save_file(tensors, path, metadata=metadata)


# the signals that stop a run, each ending it with exit status 128 + its number, as rnn's do (src/cli/signals.ts)
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stop:
    """What a stopping signal does: one line (rank 0's, so a terminal's Ctrl-C, which every rank gets, writes one), no
    traceback, exit status 128 + the signal's number; --out as it was, or with the run's files whole. Rank 0 writes its
    files as temporary ones (`writing`, removed by a stop, and --out's `lock` released, with the --out folder it made)
    and puts them in place in `held`, during which a signal waits for them to be in place. A rank that a signal stops
    alone first notes its rank and the signal in the process group's store (`store`); the ranks whose collective then
    fails read it there (`stopped_rank`) and end as it did, rank 0 writing the line that names it."""

    def __init__(self):
        self.writing, self.lock, self.holding, self.pending, self.written, self.store = [], None, False, None, None, None
        self.deferring = False

    def __call__(self, signum, frame):
        if self.holding or self.deferring:
            self.pending = self.pending or signum
        else:
            self.end(signum)

    @contextlib.contextmanager
    def held(self):
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending is not None and not self.deferring:
            self.end(self.pending)

    @staticmethod
    def who(signum, stopped):
        """`stopped by SIGINT`, or for another rank `stopped` that the signal reached, `rank 1 was stopped by SIGTERM`."""
        name = signal.Signals(signum).name
        return f"stopped by {name}" if stopped is None else f"rank {stopped} was stopped by {name}"

    def stopped_rank(self):
        """The rank a signal stopped and the signal's number, as its note in the store says; None where there is none."""
        try:
            if self.store is None or not self.store.check([STOPPED_KEY]):
                return None
            rank, signum = (int(part) for part in self.store.get(STOPPED_KEY).decode().split())
            return rank, signum
        except (RuntimeError, ValueError):
            return None

    def end(self, signum, stopped=None):
        """Ends this process as stopped by the signal `signum`: its own, or (`stopped`) that of the rank named."""
        rank = int(os.environ.get("RANK", "0"))
        if stopped is None and self.store is not None:
            try:
                # the first note stays: a terminal's Ctrl-C reaches every rank
                self.store.compare_set(STOPPED_KEY, "", f"{rank} {signum}")
            except RuntimeError:
                pass
        for path in self.writing:
            try:
                os.remove(path)
            except OSError:
                pass
        if self.lock is not None:
            self.lock.release()
        if rank == 0:
            kept = (f"its files were written to --out {self.written}" if self.written is not None
                    else "nothing was saved, --out is as it was")
            sys.stderr.write(f"train_ddp.py: {self.who(signum, stopped)}; {kept}\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + signum)


# the key of a stopped rank's note in the process group's store: its rank and the signal's number
STOPPED_KEY = "train_ddp/stopped"


STOP = Stop()


def parse_args():
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="a prepared folder (rnn prepare): meta.json, train.bin, val.bin")
    p.add_argument("--out", required=True, help="folder for model.safetensors (rnn import reads it) and summary.json")
    p.add_argument("--force", action="store_true",
                   help=f"replace the model.safetensors, summary.json and {STATE_FILE} an earlier run wrote to --out")
    p.add_argument("--resume", action="store_true",
                   help=f"go on with the run saved in --out ({STATE_FILE}, written at its end or when a signal stopped it) where it "
                        "stopped, to the limits given (totals) or its own; the architecture, --dropout, --batch, --seq-len, --seed, the "
                        "number of ranks and the data are its own")
    p.add_argument("--init", help="start from this rnn export --format safetensors file, its config and weights (--cell, --layers, "
                   "--hidden, --embed: leave them out or give its values); else a fresh model from the flags below")
    p.add_argument("--cell", choices=sorted(CELLS), default="gru", action=Given, help="recurrent cell (default %(default)s)")
    p.add_argument("--layers", type=COUNT, default=2, action=Given, help="stacked recurrent layers (default %(default)s)")
    p.add_argument("--hidden", type=COUNT, default=192, action=Given, help="hidden size H (default %(default)s)")
    p.add_argument("--embed", type=COUNT, default=64, action=Given, help="embedding size E (default %(default)s)")
    p.add_argument("--dropout", type=DROPOUT, default=0.0, action=Given, help="dropout between layers, 0 <= p < 1 (default %(default)s)")
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


def join_group():
    """Joins the process group (nccl on GPUs, gloo on CPUs): this process's rank, the world's size, its local rank
    and its device. On CPUs the ranks on one machine share its cores."""
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    me = argparse.Namespace(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=int(os.environ.get("LOCAL_RANK", 0)))
    if cuda:
        torch.cuda.set_device(me.local_rank)
        me.device = torch.device("cuda", me.local_rank)
    else:
        me.device = torch.device("cpu")
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", me.world))))
    return me


def build_model(args, run, me):
    """The model (from --init, else seeded from --seed) on this rank's device, wrapped in DDP, and its Adam; a resumed run's
    weights, Adam and this rank's random state are the saved run's."""
    torch.manual_seed(args.seed)
    model = LanguageModel(run.config, args.dropout)
    if run.init is not None:
        model.load_state_dict(run.init)
    if run.saved is not None:
        model.load_state_dict(run.saved["model"])
    model.to(me.device)
    ddp = DDP(model, device_ids=[me.local_rank] if me.device.type == "cuda" else None)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    if run.saved is not None:
        optimizer.load_state_dict(run.saved["optimizer"])
        random = run.saved["random"][me.rank]
        torch.set_rng_state(random["cpu"])
        if me.device.type == "cuda" and "cuda" in random:
            torch.cuda.set_rng_state(random["cuda"], me.device)
    return model, ddp, optimizer


# skipped steps in a row that end a run as diverged (DIVERGED_AFTER, src/train/trainer.ts)
DIVERGED_AFTER = 5


def carried_rows(carried, first, last, device):
    """This rank's rows first..last-1 of the saved carried state (all B rows: [h] or, an LSTM's, [h, c]), as the cell takes it."""
    if carried is None:
        return None
    rows = [tensor[:, first:last].contiguous().to(device) for tensor in carried]
    return tuple(rows) if len(rows) == 2 else rows[0]


def step_notes(loss, me):
    """The mean of the ranks' losses and the rank a stopping signal reached since the last step with the signal, the lowest
    such rank (None where none was signalled), in one reduction: slot 0 sums the losses, slot 1 + r holds rank r's signal,
    so every rank learns both at the same step and stops there alike."""
    notes = torch.zeros(1 + me.world, dtype=torch.float64, device=me.device)
    notes[0] = loss.detach()
    notes[1 + me.rank] = STOP.pending or 0
    dist.all_reduce(notes)
    mean, *signals = notes.tolist()
    return mean / me.world, next(((rank, int(signum)) for rank, signum in enumerate(signals) if signum != 0), None)


def train(args, run, model, ddp, optimizer, me, started):
    """rnn's loop from the saved run's step (0 for a new run) to run.total_steps on this rank's rows: the mean training loss
    of each step (None for a step skipped), the last validation loss, for a run that diverged the step it ended at and why,
    for one that a signal stopped the rank signalled and the signal (step_notes), the steps taken, and what the run's state
    holds of the loop. As in rnn train, a step whose loss or gradient norm is not finite leaves the weights and the optimizer
    as they were and the carried state restarts from zero, and DIVERGED_AFTER in a row, or a validation loss not finite,
    end the run. Every rank decides alike: the loss is their mean and the gradient is all-reduced."""
    rank, world, device = me.rank, me.world, me.device
    B, T = args.batch, args.seq_len
    row_length, steps_per_epoch, total_steps = run.row_length, run.steps_per_epoch, run.total_steps
    first, last = rows_of(rank, world, B)
    history, state, val_loss, skipped_in_a_row, start = [], None, None, 0, 0
    if run.saved is not None:
        history, val_loss = list(run.saved["train_losses"]), run.saved["val_loss"]
        skipped_in_a_row, start = run.saved["skipped_in_a_row"], run.saved["step"]
        state = carried_rows(run.saved["carried"], first, last, device)
    outcome = lambda done, diverged=None, stopped=None: argparse.Namespace(
        history=history, val_loss=val_loss, diverged=diverged, stopped=stopped, done=done, state=state, skipped_in_a_row=skipped_in_a_row)
    STOP.deferring = True
    for step in range(start, total_steps):
        epoch, cursor = divmod(step, steps_per_epoch)
        if cursor == 0:
            state = None
        lr = scheduled_lr(args, epoch, step / total_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = windows(run.train, first, last - first, row_length, cursor * T, T)
        logits, state = ddp(x.to(device), state)
        state = detach(state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.to(device).flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip_value > 0:
            torch.nn.utils.clip_grad_value_(ddp.parameters(), args.clip_value)
        # ‖g‖₂ after clipping by value, g clipped by it where --clip is set (by 1 where not: no change)
        norm = torch.nn.utils.clip_grad_norm_(ddp.parameters(), args.clip if args.clip > 0 else math.inf).item()
        mean, stopped = step_notes(loss, me)
        done = step + 1
        if math.isfinite(mean) and math.isfinite(norm):
            optimizer.step()
            history.append(mean)
            skipped_in_a_row = 0
        else:
            history.append(None)
            state, skipped_in_a_row = None, skipped_in_a_row + 1
            if skipped_in_a_row == DIVERGED_AFTER:
                return outcome(done, (done, f"{DIVERGED_AFTER} steps in a row had a loss or gradient that is not a finite number"))
        if rank == 0 and (done % args.log_every == 0 or done == total_steps):
            print(f"step {done}/{total_steps}  epoch {epoch}  loss {mean:.4f}  lr {lr:.3g}  {time.time() - started:.1f}s", flush=True)
        if (args.eval_every > 0 and done % args.eval_every == 0) or done == total_steps:
            val_loss = validation_loss(model, run.val, B, T, rank, world, device)
            if val_loss is not None and not math.isfinite(val_loss):
                return outcome(done, (done, "the validation loss is not a finite number"))
            if rank == 0 and val_loss is not None:
                print(f"step {done}  val loss {val_loss:.4f}", flush=True)
        if stopped is not None and done < total_steps:
            return outcome(done, stopped=stopped)
    unsound = first_unsound(model.state_dict())
    if unsound is not None:
        return outcome(total_steps, (total_steps, f"its weights grew beyond ±{WEIGHT_LIMIT:.0f}, more than any checkpoint may hold ({unsound})"))
    return outcome(total_steps)


def run_state(run, model, optimizer, me, outcome, seconds):
    """The run's state after outcome.done steps, which --resume goes on from: on rank 0 (None on the others, which give it
    their rows of the carried state and their random state): the weights, Adam's moments and step, the loop's place and
    history, every rank's random state, the carried state of all B rows, and the settings it keeps."""
    carried = None if outcome.state is None else [t.detach().cpu() for t in (outcome.state if isinstance(outcome.state, tuple) else (outcome.state,))]
    random = {"cpu": torch.get_rng_state()} | ({"cuda": torch.cuda.get_rng_state(me.device)} if me.device.type == "cuda" else {})
    ranks_part = [None] * me.world
    dist.all_gather_object(ranks_part, {"carried": carried, "random": random})
    if me.rank != 0:
        return None
    whole = None if carried is None else [torch.cat([part["carried"][i] for part in ranks_part], dim=1) for i in range(len(carried))]
    cpu = lambda value: value.detach().cpu() if isinstance(value, torch.Tensor) else value
    optimizer_state = optimizer.state_dict()
    optimizer_state["state"] = {key: {name: cpu(value) for name, value in moments.items()} for key, moments in optimizer_state["state"].items()}
    return {"format": STATE_FORMAT, "step": outcome.done, "settings": run.settings, "config": run.config,
            "model": {name: t.detach().cpu() for name, t in model.state_dict().items()}, "optimizer": optimizer_state,
            "carried": whole, "random": [part["random"] for part in ranks_part], "train_losses": outcome.history,
            "val_loss": outcome.val_loss, "skipped_in_a_row": outcome.skipped_in_a_row, "seconds": seconds}


def write_results(args, run, model, me, outcome, state):
    """Rank 0's files, model.safetensors, summary.json (with --score's losses) and the run's state, each written beside its
    place and put there once all are whole (Stop)."""
    scores = {}
    for path, ids in run.scored.items():
        scores[path] = score(model, ids, me.device)
        print(f"{path}: loss {scores[path]:.6f}", flush=True)
    summary = {"ranks": me.world, "steps": run.total_steps, "train_losses": outcome.history, "val_loss": outcome.val_loss,
               "scores": scores, "seconds": state["seconds"]}
    model_path, summary_path = os.path.join(args.out, "model.safetensors"), os.path.join(args.out, "summary.json")
    state_path = os.path.join(args.out, STATE_FILE)
    STOP.writing = [model_path + ".tmp", summary_path + ".tmp", state_path + ".tmp"]
    save(model, run.config, run.meta["vocab"], model_path + ".tmp")
    with open(summary_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    torch.save(state, state_path + ".tmp")
    with STOP.held():
        for path in (model_path, summary_path, state_path):
            os.replace(path + ".tmp", path)
        STOP.writing, STOP.written = [], args.out
    print(f"wrote {model_path}", flush=True)


def write_state(args, state):
    """Rank 0 writes the state of a run a signal stopped (STATE_FILE), beside its place and then put there."""
    path = os.path.join(args.out, STATE_FILE)
    STOP.writing = [path + ".tmp"]
    torch.save(state, path + ".tmp")
    with STOP.held():
        os.replace(path + ".tmp", path)
        STOP.writing = []
    return path


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
    me = join_group()
    STOP.store = dist.distributed_c10d._get_default_store()
    try:
        run_group(args, run, me)
    except RuntimeError:
        # a collective that failed because another rank was stopped by a signal: this one ends as that one did
        stopped = STOP.stopped_rank()
        if stopped is None:
            raise
        STOP.end(stopped[1], stopped[0])


def run_group(args, run, me):
    """Trains as rank `me` of the joined process group, rank 0 holding --out and writing the files, and ends the process."""
    hold_out(args, me)
    model, ddp, optimizer = build_model(args, run, me)
    if me.rank == 0:
        print(f"{ranks(me.world)} on {me.device.type}; {run.summary}", flush=True)
    started = time.time()
    outcome = train(args, run, model, ddp, optimizer, me, started)
    seconds = time.time() - started + (0.0 if run.saved is None else run.saved["seconds"])
    if outcome.stopped is not None:
        # every rank at the same step: the run's state saved, then the process ends as the signal asks
        state = run_state(run, model, optimizer, me, outcome, seconds)
        if me.rank == 0:
            path = write_state(args, state)
            rank, signum = outcome.stopped
            sys.stderr.write(f"train_ddp.py: {STOP.who(signum, None if rank == 0 else rank)} after step {outcome.done:,} of "
                             f"{run.total_steps:,}; its state is saved in {path}: give the same command with --resume to go on\n")
        dist.barrier()
        end_process_group(128 + outcome.stopped[1])
    STOP.deferring = False
    if outcome.diverged is None:
        state = run_state(run, model, optimizer, me, outcome, seconds)
        if me.rank == 0:
            write_results(args, run, model, me, outcome, state)
    elif me.rank == 0:
        step, why = outcome.diverged
        advice = f"lower --lr (it was {args.lr:g})" + ("" if args.clip > 0 else " or turn on --clip (e.g. --clip 5)")
        sys.stderr.write(f"train_ddp.py: training diverged at step {step}: {why}; nothing was saved; {advice} and train again\n")
        sys.stderr.flush()
    # every rank waits for rank 0's writing: a rank that tore the group down alone could abort the other (gloo)
    dist.barrier()
    end_process_group(0 if outcome.diverged is None else 1)


TEARDOWN_SECONDS = 20


def end_process_group(status):
    """
    Tears the process group down once every rank has done its last collective and rank 0 has
    written its files, then ends the process with `status`, --out's lock released. gloo's teardown
    now and then never returns after the other rank has gone (pytorch/pytorch#75097: seen once in a loaded CI run, after the files
    were written), and the interpreter's own teardown may wait on it too. So a rank whose
    teardown has not returned after TEARDOWN_SECONDS ends as it would have, and one whose teardown
    returns ends at once, skipping the interpreter's; its output is flushed first.
    """
    if STOP.lock is not None:
        STOP.lock.release()
    sys.stdout.flush()
    sys.stderr.flush()
    watchdog = threading.Timer(TEARDOWN_SECONDS, os._exit, args=(status,))
    watchdog.daemon = True
    watchdog.start()
    dist.destroy_process_group()
    os._exit(status)


if __name__ == "__main__":
    main()
