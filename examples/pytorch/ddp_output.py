"""--out kept whole, for train_ddp.py: one run at a time into it (its lock, rnn train's), and a stopping signal's end, which
leaves it as it was or with the run's files whole; and report, the one line each refusal, warning or end writes. No torch:
the checks read the lock before torch is imported."""

import atexit
import contextlib
import datetime
import errno
import itertools
import json
import os
import signal
import socket
import sys


# --out's lock, rnn train's on its output (lockPath, src/train/lock.ts): its file, beside where rnn train's latest checkpoint
# would be (beside the file it leads to, where that is a link), and the owner written in it, so that each refuses the
# other's running output and takes over one whose process is gone
LATEST_FILE, LOCK_SUFFIX = "latest.json", ".lock"
# the suffix of a file written before it is put in place, then its writer's pid (TEMP_SUFFIX, src/checkpoint/files.ts)
TEMP_SUFFIX = ".tmp-"
# tries at the lock over locks left by ended runs, others racing for it (LOCK_ATTEMPTS, src/train/lock.ts)
LOCK_ATTEMPTS = 3


def report(message):
    """One line on stderr, `train_ddp.py: message`: a refusal, a warning, or how the run ended. The line and its end go in
    one write, which two processes sharing torchrun's stderr cannot interleave (print writes them apart)."""
    sys.stderr.write(f"train_ddp.py: {message}\n")
    sys.stderr.flush()


def write_target(path):
    """The file a write to `path` replaces, as rnn finds it (writeTarget, src/checkpoint/files.ts): `path` itself, or where
    the link at `path` leads, followed through further links, each read from the folder it is in (a link to nothing: the
    file it names). A loop of links, which rnn writes nothing through, gives `path`."""
    seen, current = set(), path
    while True:
        try:
            if not os.path.islink(current):
                return current
            target = os.readlink(current)
        except OSError:
            return current
        current = target if os.path.isabs(target) else os.path.normpath(os.path.join(os.path.realpath(os.path.dirname(current)), target))
        if current in seen:
            return path
        seen.add(current)


def lock_path(out):
    """--out's lock file, where rnn train takes its output's: beside its latest.json, or where that is a link, beside the
    file it leads to, which rnn train writes and a run naming that file by its own path locks."""
    return write_target(os.path.join(out, LATEST_FILE)) + LOCK_SUFFIX


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
    a live one is Refused, naming its process. Makes --out where it is not there, and the folder of the lock (lock_path)."""
    made = None
    if not os.path.isdir(out):
        os.makedirs(out)
        made = out
    path = lock_path(out)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    owner_file = os.path.basename(path) + TEMP_SUFFIX
    # the owner file of a process killed while it placed its lock
    for name in os.listdir(folder):
        pid = name[len(owner_file):]
        if name.startswith(owner_file) and pid.isascii() and pid.isdigit() and int(pid) != os.getpid() and not process_is_running(int(pid)):
            try:
                os.remove(os.path.join(folder, name))
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
            report(f"{self.who(signum, stopped)}; {kept}")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + signum)


# the key of a stopped rank's note in the process group's store: its rank and the signal's number
STOPPED_KEY = "train_ddp/stopped"


STOP = Stop()


def write_whole(files, written=None):
    """Writes `files` (a writer by path) each to a temporary file beside its place, then puts them all in place together, a
    stopping signal waiting for that (Stop.held): a stop leaves the files as they were or all of them whole, its line naming
    the folder `written` as holding them."""
    STOP.writing = [path + ".tmp" for path in files]
    for path, write in files.items():
        write(path + ".tmp")
    with STOP.held():
        for path in files:
            os.replace(path + ".tmp", path)
        STOP.writing, STOP.written = [], written
