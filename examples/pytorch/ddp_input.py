"""What a train_ddp.py run reads, checked before torch is imported: the prepared folder, the model (from the flags or the
--init file), the --score files, --out, and with --resume the run saved there. Bad input ends the process here with one line
(fail); plan gives what the training (ddp_training.py) needs of it. Only numpy and safetensors' numpy side, and torch only
to read the run --resume goes on with (saved_run): bad input and --check are answered without torch's load.
"""

import argparse
import hashlib
import json
import math
import os
import pickle
import sys

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file

from ddp_output import in_use, lock_owner, lock_path, owner_is_gone, report

PREPARED_FORMAT = "rnn-prepared/1"
INTEROP_FORMAT = "rnn-state/1"
DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}
# the recurrent cells, and the gates each stacks in its weights' rows (a gate of H rows each)
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
EOS = 0  # <EOS>'s id: it ends each document and opens the next (docs/text.md)
# a prepared folder's levels (rnn prepare --level) and document rules (rnn prepare --docs)
LEVELS = ("char", "word")
DOCS = ("file", "line", "blank", "sentence")
# dropout between layers, as rnn takes it (FRACTION, src/input/settings.ts): --dropout, and an --init file's config
DROPOUT_RANGE = "a number from 0 to below 1"


def is_dropout(p):
    """Whether the number `p` is in DROPOUT_RANGE."""
    return 0 <= p < 1


# exit statuses: bad input; --out held by another running run, a refusal of the moment, not of the input, which rnn train
# ends with too (EXIT.badInput, src/cli/errors.ts)
BAD_INPUT, IN_USE = 2, 1


def fail(message, status=BAD_INPUT):
    """Bad input: one line (report) and exit status 2 (or `status`). Each process writes it: torchrun stops the rest once the
    first has failed, so one that left it to another could be stopped before that one had written it."""
    report(message)
    sys.exit(status)


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


def refuse_contradictions(args, kept, holder, why):
    """Flags given with a value other than the one `holder` keeps (`kept`: a value by each setting's dest) end the run in one
    line: `--cell gru, --hidden 7 contradict --init start.safetensors, which has --cell lstm, --hidden 24: leave them out,
    a run from --init keeps its architecture`."""
    clashes = [dest for dest, value in kept.items() if dest in args.given and getattr(args, dest) != value]
    if clashes:
        one = len(clashes) == 1
        fail(f"{', '.join(flag(dest, getattr(args, dest)) for dest in clashes)} contradict{'s' if one else ''} {holder}, which has "
             f"{', '.join(flag(dest, kept[dest]) for dest in clashes)}: leave {'it' if one else 'them'} out, {why}")


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


def tensor_shapes(config):
    """Each tensor's shape by its name in rnn-state/1, as PyTorch's modules give it (LanguageModel's state_dict): nn.Embedding
    [V, E]; each layer of nn.LSTM, nn.GRU or nn.RNN [G, E] (the first) or [G, H], [G, H] and two biases [G], G = its gates × H;
    nn.Linear [V, H] and [V]."""
    V, E, H = config["vocab_size"], config["embed_dim"], config["hidden_size"]
    G = GATES[config["cell"]] * H
    shapes = {"embed.weight": (V, E)}
    for layer in range(config["num_layers"]):
        shapes |= {f"rnn.weight_ih_l{layer}": (G, E if layer == 0 else H), f"rnn.weight_hh_l{layer}": (G, H),
                   f"rnn.bias_ih_l{layer}": (G,), f"rnn.bias_hh_l{layer}": (G,)}
    return shapes | {"head.weight": (V, H), "head.bias": (V,)}


# the sizes of an rnn-state/1 config, which PyTorch builds modules of, and the least each may be
SIZES = {"vocab_size": 0, "embed_dim": 1, "hidden_size": 1, "num_layers": 1}


def model_config(args, meta):
    """The rnn-state/1 config: the --init file's (its tensors' shapes checked against tensor_shapes, none read; the architecture flags given must
    be its values, and --dropout left out is its dropout, as rnn train --init-from takes it), else the flags'; it must read the folder's
    vocabulary, and it reads a text as the folder's was read (reading_rules: its tokenizer rules and document rule), whatever the --init
    file's were."""
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
        with safe_open(args.init, "np") as f:
            header = f.metadata() or {}
            shapes = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except (SafetensorError, OSError):
        fail(f"--init {args.init}: not a safetensors file ({export})")
    try:
        if header.get("format") != INTEROP_FORMAT:
            raise ValueError
        config, vocab = json.loads(header["config"]), json.loads(header["vocab"])
        if config.get("cell") not in GATES or type(config.get("num_layers")) is not int:
            raise ValueError
        if config.get("vocab_size") != len(vocab):
            fail(f"--init {args.init}: its config's vocab_size is {json.dumps(config.get('vocab_size'))}, and its vocabulary holds "
                 f"{len(vocab):,} tokens ({export})")
        # four tensors a layer, and the embedding and the head's two: the shapes of a model of more layers are not listed
        if 4 * config["num_layers"] + 3 != len(shapes):
            fail(f"--init {args.init}: its tensors are not those its config describes ({export})")
        if any(type(config[field]) is not int or config[field] < least for field, least in SIZES.items()):
            raise ValueError
        # left out where it is 0 (with_dropout); else in --dropout's range
        dropout = config.get("dropout", 0)
        if type(dropout) not in (int, float) or not is_dropout(dropout):
            fail(f"--init {args.init}: its config's dropout is {json.dumps(dropout)}, expected {DROPOUT_RANGE} ({export})")
        expected = tensor_shapes(config)
    except (ValueError, KeyError, TypeError, AttributeError):
        fail(f"--init {args.init}: not an rnn-state/1 safetensors file ({export})")
    if shapes != expected:
        fail(f"--init {args.init}: its tensors are not those its config describes ({export})")
    refuse_contradictions(args, {dest: config[field] for dest, field in ARCHITECTURE.items()}, f"--init {args.init}",
                          "a run from --init keeps its architecture")
    if "dropout" not in args.given:
        args.dropout = float(dropout)
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
    """The first weight of the numpy arrays `tensors` not finite or beyond ±WEIGHT_LIMIT, as rnn import names one:
    `"rnn.weight_hh_l0"[17] is NaN`; else None."""
    for name, tensor in tensors.items():
        weights = tensor.reshape(-1)
        unsound = np.flatnonzero(~(np.abs(weights) <= WEIGHT_LIMIT))
        if len(unsound) > 0:
            at = int(unsound[0])
            value = float(weights[at])
            shown = "NaN" if math.isnan(value) else f"{value:.9g}".replace("inf", "Infinity")
            return f"\"{name}\"[{at}] is {shown}"
    return None


# the longest checkpoint rnn import writes, and the room in it for all but the tensors (src/checkpoint/size.ts)
MAX_CHECKPOINT_CHARS = 2 ** 29 - 24
CHECKPOINT_OVERHEAD_CHARS = 16 << 20
# what the checkpoint of an import holds besides the weights: Adam's two moments, and the state of its default batch
IMPORT_COPIES, IMPORT_BATCH = 3, 32


def tensor_sizes(config):
    """Each tensor's number of weights and how many tensors have it: tensor_shapes of the model's first two layers, the
    second's counted for every layer after the first (a model of a billion layers is counted, never listed)."""
    layers = config["num_layers"]
    return [(math.prod(shape), layers - 1 if name.endswith("_l1") else 1)
            for name, shape in tensor_shapes(config | {"num_layers": min(layers, 2)}).items()]


def parameter_count(config):
    """The model's parameters, in arithmetic alone (nothing of its size is built)."""
    return sum(size * count for size, count in tensor_sizes(config))


def checkpoint_chars(config):
    """The most characters of the checkpoint rnn import writes of the model (checkpointChars, src/checkpoint/size.ts): each
    tensor's float32 bytes as base64, three copies, the carried state, and room for the rest."""
    base64 = lambda floats: 4 * -(-4 * floats // 3)
    carried = (2 if config["cell"] == "lstm" else 1) * config["num_layers"] * IMPORT_BATCH * config["hidden_size"]
    return sum(IMPORT_COPIES * count * base64(size) for size, count in tensor_sizes(config)) + base64(carried) + CHECKPOINT_OVERHEAD_CHARS


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
    flags = " ".join(flag(dest, getattr(args, dest)) for dest in ARCHITECTURE if dest in args.given) or "the default model"
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
# summary.json, which rnn plot reads as a run (DDP_SUMMARY_FORMAT, src/checkpoint/ddp-summary.ts)
SUMMARY_FORMAT = "train_ddp-summary/1"
# what an earlier run of this script wrote to --out, which a new run replaces only with --force
RESULT_FILES = ("model.safetensors", STATE_FILE)


def data_identity(meta):
    """What tells a prepared folder's data from another's: the fingerprint of the text it was made from, its settings, its
    sizes and its vocabulary (a copy of the folder elsewhere has the same)."""
    corpus = meta.get("corpus")
    fields = {key: meta.get(key) for key in ("level", "wordRule", "sentenceRule", "dtype", "trainTokens", "valTokens", "settings", "vocab")}
    fields["corpus"] = corpus.get("sha256") if isinstance(corpus, dict) else None
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def file_identity(path):
    """What tells the --init file from another: its path (resolved), and its size and SHA-256 (a copy elsewhere has the same)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        fail(f"--init {path}: {err.strerror}")
    return {"path": os.path.abspath(path), "size": os.path.getsize(path), "sha256": digest.hexdigest()}


def with_dropout(config, dropout):
    """The config with the run's dropout as rnn export writes it (docs/interop.md): `dropout` where it is not 0, else none
    (an --init file's left out), so that a run fine-tuned from the model (rnn train --init-from) drops out as this one did."""
    rest = {field: value for field, value in config.items() if field != "dropout"}
    return (rest | {"dropout": dropout}) if dropout != 0 else rest


def size_and_hash(identity):
    """`5,780 bytes, sha256 3f0c1a2b4d5e…`: a file_identity's bytes as `wc -c` and `sha256sum` name them."""
    return f"{identity['size']:,} bytes, sha256 {identity['sha256'][:12]}…"


def run_settings(args, config, world, meta, saved):
    """The settings --resume reads back from the saved run: those of the resume table (the architecture as the model has it),
    the number of ranks, the data's folder and identity, and the --init file the run started from (None: new weights; a
    resumed run's is the saved run's, where that recorded one)."""
    settings = {dest: getattr(args, dest) for dest in KEPT_ON_RESUME + CHANGEABLE_ON_RESUME if dest not in ARCHITECTURE}
    settings |= {dest: config[field] for dest, field in ARCHITECTURE.items()} | {
        "ranks": world, "data": os.path.abspath(args.data), "data_identity": data_identity(meta)}
    if saved is None:
        settings["init"] = None if args.init is None else file_identity(args.init)
    elif "init" in saved["settings"]:
        settings["init"] = saved["settings"]["init"]
    return settings


def saved_run(args):
    """The state of the run saved in --out (STATE_FILE), for --resume: none there, or not one this script wrote, ends the
    run. torch.save wrote it, so only torch reads it: this check alone imports torch."""
    path = os.path.join(args.out, STATE_FILE)
    if not os.path.isfile(path):
        fail(f"--resume: --out {args.out} holds no saved run (no {STATE_FILE}, which a run writes at its end or when a signal stops it "
             "while it trains): start it without --resume")
    import torch
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
    refuse_contradictions(args, {dest: settings[dest] for dest in KEPT_ON_RESUME}, f"the run saved in --out {args.out}",
                          "a resumed run keeps its settings")
    if settings["ranks"] != world:
        fail(f"--resume: the run saved in --out {args.out} trained on {ranks(settings['ranks'])}, and this one has {ranks(world)}: "
             f"resume it on {settings['ranks']} (torchrun --nnodes × --nproc_per_node)")
    if settings["data_identity"] != data_identity(meta):
        fail(f"{args.data} is not the data the run saved in --out {args.out} trained on, {settings['data']}: give that folder, or "
             "a copy of it")
    if args.init is not None:
        resumed_init(args, settings)
    restored = [dest for dest in KEPT_ON_RESUME + CHANGEABLE_ON_RESUME if dest not in args.given]
    if any(dest in args.given for dest in LIMITS):
        restored = [dest for dest in restored if dest not in LIMITS]
    for dest in restored:
        setattr(args, dest, settings[dest])


def resumed_init(args, settings):
    """--init beside --resume, which may be left out, is taken where it is the file the saved run started from, or a copy of it
    (file_identity); another, one beside a run from new weights, or one beside a saved state that recorded none is refused."""
    if "init" not in settings:
        fail(f"--init {args.init}: a resumed run goes on from the weights saved in --out {args.out}: leave --init out")
    started_from = settings["init"]
    if started_from is None:
        fail(f"--init {args.init}: the run saved in --out {args.out} started from new weights, not from an --init file: leave --init out")
    given = file_identity(args.init)
    if (given["size"], given["sha256"]) != (started_from["size"], started_from["sha256"]):
        fail(f"--init {args.init} ({size_and_hash(given)}) is not the file the run saved in --out {args.out} started from, "
             f"{started_from['path']} ({size_and_hash(started_from)}): give that file or a copy of it, or leave --init out")


def refuse_earlier_run(args):
    """--out with what an earlier run of this script wrote, without --force or --resume, is refused; --resume with --force,
    which would start the run anew, is refused too."""
    if args.resume and args.force:
        fail("--resume goes on with the run saved in --out, --force starts a new one over it: give one of them")
    earlier = [name for name in RESULT_FILES if os.path.exists(os.path.join(args.out, name))]
    if earlier and not args.force and not args.resume:
        go_on = f", or --resume to go on with it ({STATE_FILE})" if STATE_FILE in earlier else ""
        fail(f"--out {args.out} holds the {earlier[0]} of an earlier run: give another --out, or --force to replace it{go_on}")


def check_out(args):
    """--out, checked before anything is written there: a folder, or none yet, where this process may write (it and the
    folder of its lock), not held by another running run (exit status IN_USE), not an rnn train run's folder nor a prepared
    one, and not holding an earlier run's files unless --force or --resume says what to do with them (refuse_earlier_run)."""
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        fail(f"--out {args.out}: not a folder")
    lock = lock_path(args.out)
    # --out, and the folder of its lock where its latest.json leads elsewhere: the nearest of each that exists
    for parent in dict.fromkeys((os.path.abspath(args.out), os.path.dirname(os.path.abspath(lock)))):
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.access(parent, os.W_OK):
            fail(f"--out {args.out}: {parent} is not writable")
    holder = lock_owner(lock)
    if holder is not None and not owner_is_gone(holder):
        fail(in_use(args.out, holder), IN_USE)
    held = [name for name in RUN_FILES if os.path.exists(os.path.join(args.out, name))]
    if held:
        fail(f"--out {args.out} is the folder of an rnn train run (it holds its {held[0]}): give another --out, a folder of its own "
             "(--force replaces only what this script wrote)")
    if is_prepared(args.out):
        fail(f"--out {args.out} is a prepared folder (rnn prepare wrote its meta.json): give another --out, a folder of its own")
    refuse_earlier_run(args)


def refuse_too_few_tokens(count, B, T, world):
    """train.bin's `count` tokens, too few for a step of --batch B --seq-len T (B·T + 1 tokens), end the run, naming the
    largest --seq-len and --batch (a multiple of the `world` ranks) that fit, or where none does, more text."""
    most_seq_len, most_batch = (count - 1) // B, (count - 1) // T // world * world
    fits = ([f"--seq-len {most_seq_len} or less" + (f" (with --batch {B})" if most_batch >= 1 else "")] if most_seq_len >= 1 else []) + \
           ([f"--batch {most_batch} or less" + (f" (with --seq-len {T})" if most_seq_len >= 1 else "")] if most_batch >= 1 else [])
    fail(f"train.bin holds {count:,} tokens, too few for --batch {B} --seq-len {T}, whose step reads {B * T + 1:,}: "
         + (" or ".join(f"give {fit}" for fit in fits) if fits else "prepare the folder from more text"))


def plan(args, world):
    """What the run reads and how long it is, checked before anything starts: bad input ends here, with one line. The --init
    file's weights are numpy arrays (none for a resumed run, which goes on from its saved weights); a resumed run's state (saved)
    is read whole, its tensors on the CPU (saved_run)."""
    meta = read_meta(args.data)
    train, val = tokens(args.data, meta, "train"), tokens(args.data, meta, "val")
    check_out(args)
    saved = saved_run(args) if args.resume else None
    if saved is not None:
        resumed_settings(args, saved, world, meta)
    if args.batch % world != 0:
        fail(f"--batch {args.batch} must be a multiple of the {ranks(world)}")
    config = with_dropout(model_config(args, meta) if saved is None else saved["config"], args.dropout)
    if args.init is None and saved is None:
        refuse_unimportable(args, config)
    init = None if args.init is None or saved is not None else init_weights(args.init)
    scored = {path: scored_ids(path, meta) for path in args.score}
    B, T = args.batch, args.seq_len
    row_length = (len(train) - 1) // B
    steps_per_epoch = row_length // T
    if steps_per_epoch < 1:
        refuse_too_few_tokens(len(train), B, T, world)
    # as rnn train: the limits given, the first one reached; none given, one epoch
    limits = [n for n in (args.max_steps, None if args.epochs is None else args.epochs * steps_per_epoch) if n is not None]
    total_steps = min(limits) if limits else steps_per_epoch
    summary = (f"{len(train):,} training tokens, {counted(B, 'row')} of {row_length:,}, {counted(steps_per_epoch, 'step')} per epoch, "
               f"{counted(total_steps, 'step')}")
    if saved is not None:
        if total_steps <= saved["step"]:
            fail(f"--resume: the run saved in --out {args.out} has taken {counted(saved['step'], 'step')}, and its limits end it at "
                 f"{total_steps:,}: give a larger --max-steps or --epochs")
        summary += f", going on from step {saved['step']:,}"
    return argparse.Namespace(meta=meta, train=train, val=val, config=config, init=init, scored=scored, row_length=row_length,
                              steps_per_epoch=steps_per_epoch, total_steps=total_steps, summary=summary, saved=saved,
                              settings=run_settings(args, config, world, meta, saved))


def ranks(world):
    """`1 rank`, `8 ranks`."""
    return counted(world, "rank")


def counted(n, noun):
    """`1 step`, `1,600 steps`: `n` of `noun`, in the singular for one, as rnn writes a count."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
