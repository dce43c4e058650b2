"""Training jobs run side by side, each with its own thread budget, stopped together.

On a machine with few cores, two single-threaded training processes of a small model
finish sooner than the same two runs one after the other at two threads each (the
demo's mini Mask R-CNN on 2 cores, 2026-11-29: 0.30 s per iteration each, at once,
against 0.25 s alone at two threads, so a pair takes 60% of the time): small ops do not
spread over threads, and a process with more threads than its share of cores slows
everything down. Each job's thread count is
set before torch starts (``OMP_NUM_THREADS``); when one job fails, the others are
stopped and the error names the failed job's log.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

from mmrethink.analysis.runs import ScalarsReader


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
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0))


def thread_env(threads: int) -> Dict[str, str]:
    """The environment of a child process limited to ``threads`` threads."""
    value = str(max(1, threads))
    return dict(os.environ, OMP_NUM_THREADS=value, MKL_NUM_THREADS=value)


def run_jobs(
    jobs: Sequence[Job],
    on_record: Callable[[Job, Dict], None],
    threads: int,
    poll_s: float = 0.5,
) -> None:
    """Run ``jobs`` at once with ``threads`` threads each; hand every scalar record they
    write to ``on_record``; return when all succeed.

    Raises:
        JobFailed: as soon as one job exits non-zero; the others are terminated first.
    """
    readers = {job.name: ScalarsReader(job.work_dir) for job in jobs}
    procs: Dict[str, subprocess.Popen] = {}
    logs = []
    try:
        for job in jobs:
            log = open(job.log, 'w')
            logs.append(log)
            procs[job.name] = subprocess.Popen(
                job.cmd, stdout=log, stderr=subprocess.STDOUT, env=thread_env(threads)
            )
        running = list(jobs)
        while running:
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
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
