"""Training jobs run side by side (or queued for a number of slots, one per core), each
with its own thread budget, stopped together.

On a machine with few cores, two single-threaded training processes of a small model
finish sooner than the same two runs one after the other at two threads each (the
demo's mini Mask R-CNN on 2 cores, 2026-11-29: 0.30 s per iteration each, at once,
against 0.25 s alone at two threads, so a pair takes 60% of the time): small ops do not
spread over threads, and a process with more threads than its share of cores slows
everything down. Each job's thread count is set before torch starts
(``OMP_NUM_THREADS``); when one job fails, the others are stopped, the queued ones never
start, and the error names the failed job's log.

Each job runs in its own process group, and the group is stopped whenever
:func:`run_jobs` returns early: a failed job, Ctrl-C, or a SIGTERM to this process
(what ``kill``, a job scheduler or a CI timeout sends) also stop every job's own
children, such as data loader workers.
"""

import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Callable, Dict, Iterator, List, Optional, Sequence

from mmrethink.utils.scalars import ScalarsReader


class JobFailed(RuntimeError):
    """A job exited with an error; the message names it and its log."""


@dataclass
class Job:
    """One command writing mmengine scalars into ``work_dir``, its output into ``log``."""

    name: str
    cmd: List[str]
    work_dir: str
    log: str
    max_iters: int


def cores() -> int:
    """CPU cores this process may run on (all cores where the OS cannot say, as macOS)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_env(threads: int) -> Dict[str, str]:
    """The environment of a child process limited to ``threads`` threads."""
    value = str(max(1, threads))
    return dict(os.environ, OMP_NUM_THREADS=value, MKL_NUM_THREADS=value)


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn a SIGTERM into ``SystemExit`` while inside, so ``finally`` blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_group(proc: subprocess.Popen, timeout_s: float = 10) -> None:
    """Stop ``proc`` and everything it started (its process group): TERM, then KILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # children that outlived their parent
    except ProcessLookupError:
        pass
    proc.wait()


def run_jobs(
    jobs: Sequence[Job],
    on_record: Callable[[Job, Dict], None],
    threads: int,
    poll_s: float = 0.5,
    slots: Optional[int] = None,
) -> None:
    """Run ``jobs`` with ``threads`` threads each, at most ``slots`` at once (all by
    default): in their order, the next starting as soon as one ends, so a run that
    stops early (a schedule until converged) hands its cores to the next. Hand every
    scalar record they write to ``on_record``; return when all succeed.

    Raises:
        ValueError: two jobs share a name.
        JobFailed: as soon as one job exits non-zero; the others are stopped first.
    """
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f'run_jobs: job names must be unique, got {names}')
    if slots is not None and slots < 1:
        raise ValueError(f'run_jobs: slots must be at least 1 (None: all at once), got {slots}')
    readers = {job.name: ScalarsReader(job.work_dir) for job in jobs}
    procs: Dict[str, subprocess.Popen] = {}
    logs: Dict[str, IO] = {}
    waiting, running = list(jobs), []
    with sigterm_as_exit():
        try:
            while waiting or running:
                while waiting and len(running) < (slots or len(jobs)):
                    job = waiting.pop(0)
                    logs[job.name] = open(job.log, 'w')
                    procs[job.name] = subprocess.Popen(
                        job.cmd,
                        stdout=logs[job.name],
                        stderr=subprocess.STDOUT,
                        env=thread_env(threads),
                        start_new_session=True,  # its own process group, stopped as one
                    )
                    running.append(job)
                time.sleep(poll_s)
                for job in list(running):
                    code = procs[job.name].poll()
                    for record in readers[job.name].new_records():
                        on_record(job, record)
                    if code is None:
                        continue
                    if code != 0:
                        raise JobFailed(f'{job.name} failed (exit {code}); see its log: {job.log}')
                    running.remove(job)
                    stop_group(procs.pop(job.name))  # children it left hold no core
                    logs.pop(job.name).close()
        finally:
            for proc in procs.values():
                stop_group(proc)
            for log in logs.values():
                log.close()
