"""Arms trained as separate processes, one per core, with their progress and an ETA.

What the demo prints while it runs: each job's evaluations and every 60th iteration,
read from the scalars mmengine writes, with the time left in the whole demo.
"""

import json
import os.path as osp
import time
from typing import Dict, List, Optional

from mmrethink.analysis.runs import BOX_AP, MASK_AP, ap_points
from mmrethink.engine.hooks.until_converged_hook import SCHEDULE_FILE
from mmrethink.launching.parallel_runs import Job, JobFailed, run_jobs
from mmrethink.utils.package_files import train_command


def say(message: str) -> None:
    """Print a progress line at once."""
    print(message, flush=True)


class DemoClock:
    """An ETA for the whole demo: the current stage projected from its progress, the
    stages to come from their planned seconds scaled by how the done ones compared."""

    def __init__(self, plan: Dict[str, float]) -> None:
        self.plan = plan
        self.taken: Dict[str, float] = {}
        self.current, self.started = '', time.time()

    def begin(self, stage: str) -> None:
        """Start timing ``stage``."""
        self.current, self.started = stage, time.time()

    def end(self) -> None:
        """Record the current stage's seconds."""
        self.taken[self.current] = time.time() - self.started

    def remaining(self, fraction: float, most: Optional[float] = None) -> float:
        """Seconds left in the demo when the current stage is ``fraction`` done. ``most``:
        how much would be done if every arm that has not chosen its end ended as early as
        it can; then the stage takes its planned seconds, but no less than ``most`` and
        no more than ``fraction`` allow (each once it is at least 0.2)."""
        spent = time.time() - self.started
        planned = self.plan[self.current]
        if most is None:
            projected = spent / fraction if fraction >= 0.2 else max(planned, spent)
        else:
            projected = max(planned, spent, spent / most if most >= 0.2 else 0)
            if fraction >= 0.2:
                projected = min(projected, spent / fraction)
        done_plan = sum(self.plan[s] for s in self.taken) + planned
        pace = (sum(self.taken.values()) + projected) / done_plan
        later = [s for s in self.plan if s not in self.taken and s != self.current]
        return max(projected - spent, 0) + pace * sum(self.plan[s] for s in later)

    def eta(self, fraction: float, most: Optional[float] = None) -> str:
        """``demo ETA 4:05``."""
        minutes, seconds = divmod(int(self.remaining(fraction, most)), 60)
        return f'demo ETA {minutes}:{seconds:02d}'


def progress_line(name: str, record: Dict, max_iters: int) -> Optional[str]:
    """A line for an evaluation or every 60th iteration mmengine wrote to its scalars."""
    if BOX_AP in record:
        mask = f'  mask AP {ap_points(record, MASK_AP):.1f}' if MASK_AP in record else ''
        return (
            f'  [{name}] iter {record["step"]}/{max_iters} eval: box AP '
            f'{ap_points(record, BOX_AP):.1f}{mask}'
        )
    if 'cls/top1' in record:
        return f'  [{name}] eval: top-1 {record["cls/top1"]:.1f}%'
    if 'loss' in record and record['iter'] % 60 == 0:
        return (
            f'  [{name}] iter {record["iter"]}/{max_iters}  lr {record["lr"]:.4g}  '
            f'loss {record["loss"]:.4f}'
        )
    return None


def chosen_end(work_dir: str) -> Optional[int]:
    """The last iteration an arm trained until converged chose (its ``schedule.json``,
    written when its full-LR stage ended); None before, or while the file is written."""
    try:
        with open(osp.join(work_dir, SCHEDULE_FILE)) as f:
            return int(json.load(f)['max_iters'])
    except (OSError, ValueError, KeyError):
        return None


def train_job(name: str, config: str, work_dir: str, logs: str, max_iters: int) -> Job:
    """tools/train.py on ``config`` into ``work_dir``, logging to ``logs/<name>.log``."""
    return Job(
        name, train_command(config, work_dir), work_dir, osp.join(logs, f'{name}.log'), max_iters
    )


def run_stage(
    clock: DemoClock,
    jobs: List[Job],
    threads: int,
    slots: Optional[int] = None,
    tails: Optional[Dict[str, int]] = None,
) -> None:
    """Run ``jobs``, ``slots`` at a time (all by default); print their progress with the
    demo's ETA; exit on failure. ``tails``: for the arms trained until converged, the
    iterations they train after their full-LR stage; until an arm's ``schedule.json``
    says where it ends, it may end anywhere from where it is plus its tail to its
    ``max_iters``, and the ETA follows the stage's plan within those bounds."""
    tails = tails or {}
    done = {job.name: 0 for job in jobs}
    ends = {job.name: job.max_iters for job in jobs}  # the caps, until an arm chooses
    chosen = set()

    def on_record(job: Job, record: Dict) -> None:
        done[job.name] = max(done[job.name], record.get('iter', record.get('step', 0)))
        if job.name not in chosen:
            end = chosen_end(job.work_dir)
            if end is not None:
                ends[job.name] = end
                chosen.add(job.name)
        line = progress_line(job.name, record, ends[job.name])
        if line:
            trained = sum(done.values())
            open_ended = [name for name in tails if name not in chosen]
            earliest = {name: min(ends[name], done[name] + tails[name]) for name in open_ended}
            most = trained / sum({**ends, **earliest}.values()) if open_ended else None
            say(f'{line}  | {clock.eta(trained / sum(ends.values()), most)}')

    try:
        run_jobs(jobs, on_record, threads, slots=slots)
    except JobFailed as e:
        raise SystemExit(f'demo stopped: {e}') from None
    clock.end()
