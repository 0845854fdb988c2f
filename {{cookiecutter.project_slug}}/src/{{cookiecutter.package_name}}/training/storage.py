"""Where tuning workers share their studies: a database (`OPTUNA_STORAGE`, e.g. PostgreSQL)
or Optuna's journal file for several processes on this machine; and keeping trials honest
when a worker dies.

Stale trials: a worker killed mid-trial leaves it RUNNING for ever. In a database each
running trial gets a heartbeat (a thread records one every HEARTBEAT seconds); a trial
without one for GRACE seconds is failed by the next worker that asks for a trial, and a copy
with the same params is queued (Optuna's RetryHeartbeatStaleTrialCallback), so a restarted
study runs it again. The journal file has no heartbeat: a trial records its worker's host
and process id, and a trial of a process of this host that no longer exists is failed and
queued again the same way."""

from __future__ import annotations

import os
import re
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StageError

ENV = "OPTUNA_STORAGE"  # a database URL; it may hold a password, so never a params.yaml key
HEARTBEAT = 5  # seconds between a running trial's heartbeats (database)
GRACE = 20  # seconds without a heartbeat after which a running trial counts as dead


@dataclass(frozen=True)
class StorageSpec:
    """A shared storage: a database URL, or a journal file."""

    url: str | None = None
    journal: Path | None = None

    def describe(self) -> str:
        """The storage for logs and errors, password hidden."""
        if self.url is not None:
            return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", self.url)
        return f"the journal file {self.journal}"


def storage_spec(workers: int, folder: Path, journal: bool = False) -> StorageSpec | None:
    """The database in OPTUNA_STORAGE; else, for several workers (or `journal`), a journal
    file in folder; else None: one worker tunes in memory, as without this module."""
    url = os.environ.get(ENV, "").strip()
    if url:
        return StorageSpec(url=url)
    if workers > 1 or journal:
        return StorageSpec(journal=folder / "journal.log")
    return None


def open_storage(spec: StorageSpec) -> Any:
    """The Optuna storage; a database that cannot be reached is one line naming OPTUNA_STORAGE."""
    import optuna

    if spec.journal is not None:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        spec.journal.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(spec.journal)))
    try:
        with _quiet():
            return optuna.storages.RDBStorage(
                spec.url, heartbeat_interval=HEARTBEAT, grace_period=GRACE,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(),
            )  # fmt: skip
    except ModuleNotFoundError as exc:
        raise StageError(
            f"{ENV}: {spec.describe()} needs the database driver {exc.name!r}, not installed "
            "(pip install -e '.[team]' for PostgreSQL)"
        ) from None
    except Exception as exc:  # sqlalchemy's errors: a bad URL, password, host or database
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StageError(f"{ENV}: cannot open {spec.describe()}: {first}") from None


@contextmanager
def _quiet() -> Iterator[None]:
    """Heartbeats and their retry are marked experimental in Optuna (since 2.8): no news."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def worker_tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    """Whether a process exists (signal 0 asks without sending; on Windows os.kill would end
    the process, so there every process counts as alive: no journal trial is failed)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_here(trial: Any, host: str) -> bool:
    """A running trial of a process of this host that has ended."""
    where, _, pid = str(trial.user_attrs.get("process", "")).rpartition(":")
    return where == host and pid.isdigit() and not _alive(int(pid))


def fail_stale(study: Any) -> None:
    """Fail the running trials of dead workers and queue each again (before each ask)."""
    import optuna

    if isinstance(study._storage, optuna.storages.JournalStorage):
        _fail_dead_journal_trials(study)
    else:
        with _quiet():
            optuna.storages.fail_stale_trials(study)  # the database's heartbeats


def _fail_dead_journal_trials(study: Any) -> None:
    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in running:
        if not _dead_here(trial, host):
            continue
        try:
            study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker failed it first, and queues it
        with _quiet():
            optuna.storages.RetryHeartbeatStaleTrialCallback()(study, trial)


@contextmanager
def heartbeat(study: Any, trial: Any) -> Iterator[None]:
    """While a trial runs: its heartbeat, every HEARTBEAT seconds (a database only)."""
    import optuna

    storage = getattr(study._storage, "_backend", study._storage)  # under Optuna's cache
    if trial is None or not isinstance(storage, optuna.storages.RDBStorage):
        yield
        return
    # The first beat here, not in the thread: Optuna never fails a running trial that has no
    # heartbeat at all, so a worker killed before its thread beat would leave it for ever.
    storage.record_heartbeat(trial._trial_id)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT):
            storage.record_heartbeat(trial._trial_id)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
