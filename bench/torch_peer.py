"""The bench's PyTorch peer: the same models as `npm run bench`, written as a user would write
them in PyTorch (nn.Embedding, nn.GRU / nn.LSTM, nn.Linear, Adam, clip_grad_norm_), timed in
windows the bench asks for one at a time, so that rnn and PyTorch take turns in one run.

It reads one JSON request a line on stdin and answers each with one JSON line on stdout:

  {"cmd": "info"}                               -> {"torch": "2.13.0", "threads": 2}
  {"cmd": "train", "key": ..., "model": {...}, "batch": 50, "seqLen": 50, "lr": 0.002, "clip": 5, "threads": 2, "seconds": 1.6}
                                                -> {"rate": tokens per second, "cpuRate": per CPU-second}
  {"cmd": "sample", "key": ..., "model": {...}, "threads": 1, "length": 2000, "seconds": 1.6}
                                                -> {"rate": ..., "cpuRate": ...}
  {"cmd": "race", "corpus": path, "seconds": 180, "threads": 2, "settings": {...}}
                                                -> {"steps": n, "valLoss": nats, ...}

A model is {"cell", "vocabSize", "embedDim", "hiddenSize", "numLayers"}. Requests with the
same key reuse one model and optimizer, alive across windows as the bench's engines are. The
bench starts a process for each model and thread count (and one for the race), as a user's
script runs one model: docs/speed.md says what one process for all of them measured.
"""

import json
import math
import signal
import sys
import time

import torch
from torch import nn


class LanguageModel(nn.Module):
    """tokens [B, T] -> embed -> L recurrent layers -> head -> logits [B, T, V]"""

    def __init__(self, cell, vocab_size, embed_dim, hidden_size, num_layers):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        recurrent = nn.LSTM if cell == "lstm" else nn.GRU if cell == "gru" else nn.RNN
        self.rnn = recurrent(embed_dim, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state):
        out, state = self.rnn(self.embed(tokens), state)
        return self.head(out), state


def detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def cross_entropy(logits, targets, reduction="mean"):
    """logits [B, T, V] against targets [B, T]: their mean (or sum) cross-entropy over every position."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)


def train_step(model, optimizer, clip, x, y, state):
    """One step of truncated BPTT from `state`: x's mean cross-entropy against y, its gradient clipped to a norm of `clip`, then
    Adam's step. The loss, and the state carried to the next step, detached."""
    logits, state = model(x, state)
    loss = cross_entropy(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss, detach(state)


def build(model):
    return LanguageModel(model["cell"], model["vocabSize"], model["embedDim"], model["hiddenSize"], model["numLayers"])


class Trainer:
    """Truncated BPTT on random tokens, B x T a step: Adam at the request's lr, clipped at its norm, the state carried."""

    def __init__(self, request):
        torch.manual_seed(1)
        self.model = build(request["model"])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=request["lr"])
        self.clip = request["clip"]
        vocab, batch, seq_len = request["model"]["vocabSize"], request["batch"], request["seqLen"]
        generator = torch.Generator().manual_seed(2)
        self.inputs = torch.randint(vocab, (batch, seq_len), generator=generator)
        self.targets = torch.randint(vocab, (batch, seq_len), generator=generator)
        self.tokens = batch * seq_len
        self.state = None
        self.step()  # the first step allocates

    def step(self):
        _, self.state = train_step(self.model, self.optimizer, self.clip, self.inputs, self.targets, self.state)


class Sampler:
    """Batch 1, one token a step from the softmax, as a sampling loop over nn.Module reads."""

    def __init__(self, request):
        torch.manual_seed(3)
        self.model = build(request["model"]).eval()
        self.vocab = request["model"]["vocabSize"]
        self.run(200)

    @torch.no_grad()
    def run(self, length):
        token = torch.zeros((1, 1), dtype=torch.long)
        state = None
        for _ in range(length):
            logits, state = self.model(token, state)
            probs = torch.softmax(logits[0, -1], dim=-1)
            token = torch.multinomial(probs, 1).view(1, 1)


subjects = {}


def subject(kind, request):
    """The Trainer or Sampler of the request's key: made at its first request, alive across windows."""
    key = request["key"]
    if key not in subjects:
        subjects[key] = kind(request)
    return subjects[key]


def timed(work, seconds):
    """
    Calls work() (returning the tokens it did) until `seconds` have passed: tokens per second,
    and per second of this process's CPU time (every thread's).
    """
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        done += work()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"rate": done / elapsed, "cpuRate": done / max(time.process_time() - cpu, 1e-9)}


def train(request):
    torch.set_num_threads(request["threads"])
    trainer = subject(Trainer, request)

    def work():
        trainer.step()
        return trainer.tokens

    return timed(work, request["seconds"])


def sample(request):
    torch.set_num_threads(request["threads"])
    sampler = subject(Sampler, request)
    length = request["length"]

    def work():
        sampler.run(length)
        return length

    return timed(work, request["seconds"])


def streams(ids, rows):
    """ids cut into `rows` contiguous streams of equal length: [rows, n // rows]."""
    n = len(ids) // rows
    return ids[: rows * n].view(rows, n)


@torch.no_grad()
def validation_loss(model, data, seq_len):
    """Mean cross-entropy (nats) over every prediction of the [rows, n] streams, the state carried."""
    state, total, count = None, 0.0, 0
    for t in range(0, data.shape[1] - 1, seq_len):
        x = data[:, t : min(t + seq_len, data.shape[1] - 1)]
        y = data[:, t + 1 : t + 1 + x.shape[1]]
        logits, state = model(x, state)
        total += cross_entropy(logits, y, reduction="sum").item()
        count += y.numel()
    return total / count


def scheduled_lr(s, epoch, done):
    """rnn's scheduledLr (src/engine/optim.ts): `done` the fraction of the run behind the step."""
    if s["lrSchedule"] == "epoch":
        return s["lr"] * s["lrDecay"] ** epoch
    return s["lr"] * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, done))))


def race(request):
    """
    `rnn train CORPUS --time …` with the same settings: the last valFrac of the text held out,
    B contiguous streams of the rest, windows of T, Adam with rnn's schedule (scheduled_lr), clip
    by norm, an evaluation every evalEvery steps (as often as rnn's default: a tenth of the time)
    and at the end, all inside the time budget.
    """
    s = request["settings"]
    torch.set_num_threads(request["threads"])
    torch.manual_seed(s["seed"])
    with open(request["corpus"], encoding="utf-8") as f:
        text = f.read()
    cut = round(len(text) * (1 - s["valFrac"]))
    train_text, val_text = text[:cut], text[cut:]
    chars = sorted(set(train_text))
    index = {c: i for i, c in enumerate(chars)}
    unknown = len(chars)
    encode = lambda part: torch.tensor([index.get(c, unknown) for c in part], dtype=torch.long)
    B, T = s["batch"], s["seqLen"]
    train_data, val_data = streams(encode(train_text), B), streams(encode(val_text), B)
    model = LanguageModel(s["cell"], len(chars) + 1, s["embed"], s["hidden"], s["layers"])
    optimizer = torch.optim.Adam(model.parameters(), lr=s["lr"])
    steps_per_epoch = (train_data.shape[1] - 1) // T
    val_chars = val_data.numel()
    eval_every = max(100, math.ceil(10 * val_chars / (3 * B * T) / 100) * 100)
    budget, start = request["seconds"], time.perf_counter()
    step, state, eval_seconds, val_loss = 0, None, 0.0, None
    while True:
        epoch, t = divmod(step, steps_per_epoch)
        if t == 0:
            state = None
        lr = scheduled_lr(s, epoch, (time.perf_counter() - start) / budget)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x = train_data[:, t * T : (t + 1) * T]
        y = train_data[:, t * T + 1 : (t + 1) * T + 1]
        loss, state = train_step(model, optimizer, s["clip"], x, y, state)
        step += 1
        elapsed = time.perf_counter() - start
        step_seconds = elapsed / step
        # the closing evaluation as rnn's closingEvalSeconds (src/train/trainer.ts) foresees it:
        # the last one's time, and before any, the validation tokens at twice the training speed
        closing_seconds = max(eval_seconds, val_chars * step_seconds / (2 * B * T))
        if elapsed + step_seconds + closing_seconds >= budget:
            break
        if step % eval_every == 0:
            began = time.perf_counter()
            model.eval()
            val_loss = validation_loss(model, val_data, T)
            model.train()
            eval_seconds = time.perf_counter() - began
    began = time.perf_counter()
    val_loss = validation_loss(model, val_data, T)
    return {
        "steps": step, "epochs": step / steps_per_epoch, "valLoss": val_loss, "trainLoss": loss.item(),
        "seconds": time.perf_counter() - start, "lastEvalSeconds": time.perf_counter() - began,
    }


def main():
    # Ctrl-C reaches the peer with the bench: it ends at once, as the bench ends it, with no traceback
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for line in sys.stdin:
        request = json.loads(line)
        cmd = request["cmd"]
        if cmd == "info":
            answer = {"torch": torch.__version__, "threads": torch.get_num_threads()}
        elif cmd == "train":
            answer = train(request)
        elif cmd == "sample":
            answer = sample(request)
        elif cmd == "race":
            answer = race(request)
        else:
            answer = {"error": f"unknown command {cmd!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
