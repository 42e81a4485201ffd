"""The training of a train_ddp.py run, its input checked (ddp_input.plan): the model, the loop on every rank, validation,
--score and the files it writes. Imported by train_ddp.py once the input is good, since importing torch takes seconds."""

import argparse
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from torch.nn.parallel import DistributedDataParallel as DDP

from ddp_input import IN_USE, INTEROP_FORMAT, STATE_FILE, STATE_FORMAT, SUMMARY_FORMAT, WEIGHT_LIMIT, first_unsound, ranks
from ddp_output import STOP, Refused, report, take_lock, write_whole


class LanguageModel(nn.Module):
    """Embedding -> stacked LSTM / GRU / tanh RNN -> Linear, under rnn-state/1's tensor names."""

    def __init__(self, config, dropout):
        super().__init__()
        self.embed = nn.Embedding(config["vocab_size"], config["embed_dim"])
        cell = getattr(nn, config["cell"].upper())  # nn.LSTM, nn.GRU or nn.RNN
        self.rnn = cell(config["embed_dim"], config["hidden_size"], config["num_layers"],
                        batch_first=True, dropout=dropout if config["num_layers"] > 1 else 0.0)
        self.head = nn.Linear(config["hidden_size"], config["vocab_size"])

    def forward(self, tokens, state=None):  # tokens [B, T] -> logits [B, T, V], state
        out, state = self.rnn(self.embed(tokens), state)
        return self.head(out), state


def map_state(function, state):
    """`function` applied to a recurrent state as the cell takes it: to a GRU's or RNN's h, to each of an LSTM's (h, c);
    None, the zero state, stays None."""
    if state is None:
        return None
    return tuple(map(function, state)) if isinstance(state, tuple) else function(state)


def scheduled_lr(args, epoch, done):
    """rnn's learning rate (scheduledLr, src/engine/optim.ts) for a step of epoch `epoch` with the fraction `done` of the
    run behind it: lr · decay^epoch (--lr-schedule epoch), else lr · ½(1 + cos(π · done)), from lr to 0 over the run."""
    if args.lr_schedule == "epoch":
        return args.lr * args.lr_decay ** epoch
    return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, done))))


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
                report(f"warning: {STOP.lock.notice}")
    refused = torch.tensor([0.0 if refusal is None else 1.0], device=me.device)
    dist.all_reduce(refused)
    if refused.item() > 0:
        if refusal is not None:
            report(refusal)
        end_process_group(IN_USE)


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
    """rnn's validation loss (EvalBatches, src/text/batches.ts): the N ids of `data` cut into R = min(B, ⌊(N − 1) / T⌋)
    rows (at least one; None where N < 2) of L = ⌊(N − 1) / R⌋ predictions, each rank reading its rows (rows_of) in
    windows of T from a zero state: Σ −log p(target) over all R · L predictions, summed over the ranks, / (R · L)."""
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
        model.load_state_dict({name: torch.from_numpy(weights) for name, weights in run.init.items()})
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
    state = None if carried is None else tuple(carried) if len(carried) == 2 else carried[0]
    return map_state(lambda tensor: tensor[:, first:last].contiguous().to(device), state)


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
    """rnn's loop on this rank's rows, from the saved run's step (0 for a new run) to run.total_steps: the mean training loss
    of each step (None for a step skipped), each validation (its step and loss, None without a validation split), the last
    validation loss, the steps taken and what the run's state holds of the loop; for a run that diverged (as in rnn train:
    DIVERGED_AFTER steps skipped in a row, a validation loss not finite, or at the end a weight not sound) the step it ended at and why,
    for one that a signal stopped the rank signalled and the signal (step_notes). Every rank decides alike: the loss is
    their mean and the gradient is all-reduced."""
    rank, world, device = me.rank, me.world, me.device
    B, T = args.batch, args.seq_len
    row_length, steps_per_epoch, total_steps = run.row_length, run.steps_per_epoch, run.total_steps
    first, last = rows_of(rank, world, B)
    history, evaluations, state, val_loss, skipped_in_a_row, start = [], [], None, None, 0, 0
    if run.saved is not None:
        history, val_loss = list(run.saved["train_losses"]), run.saved["val_loss"]
        # a state saved before the validations were kept has its last loss alone, at an unknown step
        evaluations = list(run.saved.get("evaluations", []))
        skipped_in_a_row, start = run.saved["skipped_in_a_row"], run.saved["step"]
        state = carried_rows(run.saved["carried"], first, last, device)
    outcome = lambda done, diverged=None, stopped=None: argparse.Namespace(
        history=history, evaluations=evaluations, val_loss=val_loss, diverged=diverged, stopped=stopped, done=done, state=state,
        skipped_in_a_row=skipped_in_a_row)
    # Step s of N (epoch e = ⌊s / S⌋, cursor k = s mod S, S steps an epoch; the carried state is zero at k = 0) reads columns
    # k·T … k·T + T − 1 of this rank's B/W rows and predicts the tokens one to the right:
    #   loss = −(W / (B·T)) Σ log softmax(logits)[target]   this rank's mean; DDP averages its gradient over the W ranks,
    #                                                        so g is the gradient of the mean loss over all B·T predictions
    #   lr = lr₀ · ½(1 + cos(π s / N))  (cosine), or lr₀ · decay^e  (epoch)           scheduled_lr
    #   g ← clamp(g, −clip_value, clip_value), then g · min(1, clip / ‖g‖₂)          each where its flag is above 0
    #   Adam(g, lr) where the ranks' mean loss and ‖g‖₂ are finite; else the weights stay and the carried state is zeroed
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
        state = map_state(torch.Tensor.detach, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.to(device).flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip_value > 0:
            torch.nn.utils.clip_grad_value_(ddp.parameters(), args.clip_value)
        # a max norm of ∞ (--clip 0) measures ‖g‖₂ and leaves g as it is
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
            evaluations.append({"step": done, "val_loss": val_loss})
            if rank == 0 and val_loss is not None:
                print(f"step {done}  val loss {val_loss:.4f}", flush=True)
        if stopped is not None and done < total_steps:
            return outcome(done, stopped=stopped)
    unsound = first_unsound({name: t.detach().cpu().numpy() for name, t in model.state_dict().items()})
    if unsound is not None:
        return outcome(total_steps, (total_steps, f"its weights grew beyond ±{WEIGHT_LIMIT:.0f}, more than any checkpoint may hold ({unsound})"))
    return outcome(total_steps)


def run_state(run, model, optimizer, me, outcome, seconds):
    """The run's state after outcome.done steps, which --resume goes on from: on rank 0 (None on the others, which give it
    their rows of the carried state and their random state): the weights, Adam's moments and step, the loop's place and
    history, every rank's random state, the carried state of all B rows, and the settings it keeps."""
    rows = map_state(lambda tensor: tensor.detach().cpu(), outcome.state)
    carried = None if rows is None else list(rows) if isinstance(rows, tuple) else [rows]
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
            "evaluations": outcome.evaluations, "val_loss": outcome.val_loss, "skipped_in_a_row": outcome.skipped_in_a_row,
            "seconds": seconds}


def write_results(args, run, model, me, outcome, state):
    """Rank 0's files, model.safetensors, summary.json (with --score's losses) and the run's state, each written beside its
    place and put there once all are whole (Stop)."""
    scores = {}
    for path, ids in run.scored.items():
        scores[path] = score(model, ids, me.device)
        print(f"{path}: loss {scores[path]:.6f}", flush=True)
    # what rnn plot reads as the run: its tokens, and each evaluation at the tokens trained on by then (steps × B × T)
    summary = {"format": SUMMARY_FORMAT, "ranks": me.world, "steps": run.total_steps, "level": run.meta["level"],
               "vocab_size": run.config["vocab_size"], "tokens_per_step": args.batch * args.seq_len, "train_losses": outcome.history,
               "evaluations": outcome.evaluations, "val_loss": outcome.val_loss, "scores": scores, "seconds": state["seconds"]}
    model_path, summary_path = os.path.join(args.out, "model.safetensors"), os.path.join(args.out, "summary.json")
    write_whole({model_path: lambda temp: save(model, run.config, run.meta["vocab"], temp),
                 summary_path: lambda temp: Path(temp).write_text(json.dumps(summary, indent=1), encoding="utf-8"),
                 os.path.join(args.out, STATE_FILE): lambda temp: torch.save(state, temp)}, written=args.out)
    print(f"wrote {model_path}", flush=True)


def write_state(args, state):
    """Rank 0 writes the state of a run a signal stopped (STATE_FILE), beside its place and then put there."""
    path = os.path.join(args.out, STATE_FILE)
    write_whole({path: lambda temp: torch.save(state, temp)})
    return path


def train_as_rank(args, run):
    """Joins the process group and trains as this process's rank (run_group)."""
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
    # a resumed run's time goes on from the saved run's, in its step lines and its summary, as in rnn train --resume
    started = time.time() - (0.0 if run.saved is None else run.saved["seconds"])
    outcome = train(args, run, model, ddp, optimizer, me, started)
    seconds = time.time() - started
    if outcome.stopped is not None:
        # every rank at the same step: the run's state saved, then the process ends as the signal asks
        state = run_state(run, model, optimizer, me, outcome, seconds)
        if me.rank == 0:
            path = write_state(args, state)
            rank, signum = outcome.stopped
            # --resume refuses --force, which starts a run anew: the line names it
            report(f"{STOP.who(signum, None if rank == 0 else rank)} after step {outcome.done:,} of {run.total_steps:,}; its state "
                   f"is saved in {path}: give the same command with --resume{' in place of --force' if args.force else ''} to go on")
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
        report(f"training diverged at step {step}: {why}; nothing was saved; {advice} and train again")
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
