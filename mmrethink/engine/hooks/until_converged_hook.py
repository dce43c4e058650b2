"""Train at the full LR until the AP stops rising, then the paper's tail."""

import json
import os.path as osp
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmrethink.registry import HOOKS
from mmrethink.utils.convergence_records import FILENAME, read_convergence
from mmrethink.utils.convergence_rule import TOLERANCE, judged_window, rise_across
from mmrethink.utils.refusal import Refusal

from ..schedulers import WarmupMultiStepLR
from .convergence_hook import val_interval_at

if TYPE_CHECKING:
    from mmengine.runner import Runner

SCHEDULE_FILE = 'schedule.json'


class UntilConvergedMisconfigured(Refusal):
    """A schedule the hook cannot shorten; the message names the fix."""


def stage_end_reason(points: List[Tuple[int, float]], iteration: int, cap: int) -> Optional[str]:
    """Why the full-LR stage ends after the evaluation at ``iteration`` (AP ``points`` so
    far, in points), or None while it goes on: the rule holds over the last quarter of
    the stage so far, or the stage reached its ``cap``."""
    window = judged_window(iteration)
    trend = rise_across(points, window)
    if trend is not None and trend.rise < TOLERANCE:
        return f'converged ({trend.rise:+.1f} ± {trend.error:.1f} AP over {window[0]}-{window[1]})'
    if iteration >= cap:
        still = 'not judged' if trend is None else f'still rising ({trend.rise:+.1f} AP)'
        return f'the cap of {cap} iterations reached ({still})'
    return None


@HOOKS.register_module()
class UntilConvergedHook(Hook):
    """End the full-LR stage at the first evaluation where the convergence rule holds.

    The paper's answer to "how long must scratch train?" is a schedule sweep (1x to 6x,
    Table 1); this asks the rule of one run instead. The schedule written in the config
    is the cap: its first LR drop ends the full-LR stage at the latest, and its two tail
    stages (the Nx rule's 40k iterations at LR/10 and 20k at LR/100 per 90k of a 1x,
    i.e. 4/9 and 2/9 of a 1x, as :data:`mmrethink.engine.schedule_rules.PAPER_RULE` sizes
    them) follow wherever the stage ends. At each evaluation the rule of
    :mod:`mmrethink.utils.convergence_rule` is asked of the AP so far, over the last
    quarter of the stage so far; once it holds, the LR drops after that iteration and
    the run ends after the tail. At a cap where no evaluation falls, the stage ends at
    the cap itself, as configured. The decision is logged, written to
    ``work_dir/schedule.json`` and carried in every checkpoint, so ``--resume`` continues
    the schedule the run chose (an evaluation a kill interrupted is run again, or read
    back from ``convergence.jsonl``, before training goes on).

    Args:
        metric: The AP the rule judges, as the evaluator names it.
    """

    priority = 'LOW'

    def __init__(self, metric: str = 'coco/bbox_mAP') -> None:
        self.metric = metric
        self.points: List[Tuple[int, float]] = []  # (iteration, AP points), full LR
        self.decision: Optional[Dict] = None

    def before_run(self, runner: 'Runner') -> None:
        """Read the cap and the tail from the schedule as configured (a resumed
        scheduler carries the milestones its run moved)."""
        cap, second = self._scheduler(runner).milestones
        self.cap, self.tail = cap, (second - cap, runner.max_iters - second)

    def before_train(self, runner: 'Runner') -> None:
        """Continue a resumed decision, or take back an evaluation of the resumed
        iteration that the records hold."""
        if self.decision is not None:
            self._apply(runner, self.decision['stage_end'])
            print_log(
                f'UntilConvergedHook: continuing the schedule chosen at iteration '
                f'{self.decision["stage_end"]}: {self.decision["reason"]}.',
                logger='current',
            )
            return
        path = osp.join(runner.work_dir, FILENAME)
        evaluated = {i for i, _ in self.points}
        if runner.iter and runner.iter not in evaluated and osp.isfile(path):
            for record in read_convergence(path):
                if record['iter'] == runner.iter and self.metric in record:
                    self._evaluated(runner, runner.iter, record[self.metric])

    def after_val_epoch(self, runner: 'Runner', metrics: Optional[Dict[str, float]] = None) -> None:
        """Ask the rule at this evaluation of the full-LR stage."""
        if self.decision is None and metrics and self.metric in metrics:
            self._evaluated(runner, runner.iter, metrics[self.metric])

    def after_train_iter(
        self,
        runner: 'Runner',
        batch_idx: int,
        data_batch: Optional[Dict] = None,
        outputs: Optional[Dict] = None,
    ) -> None:
        """At the cap with no evaluation there, end the stage where the configured
        schedule drops the LR; an evaluation after it trains at LR/10 and is not asked."""
        iteration = runner.iter + 1
        if self.decision is not None or iteration != self.cap:
            return
        loop = runner.train_loop
        interval = val_interval_at(loop, iteration)
        evaluates = runner.val_loop is not None and interval > 0
        evaluates = evaluates and iteration >= getattr(loop, 'val_begin', 1)
        evaluates = evaluates and (iteration % interval == 0 or iteration == runner.max_iters)
        if not evaluates:
            self._decide(runner, iteration, stage_end_reason(self.points, iteration, self.cap))

    def before_save_checkpoint(self, runner: 'Runner', checkpoint: Dict) -> None:
        """Carry the evaluations so far and the decision."""
        checkpoint['until_converged'] = dict(points=self.points, decision=self.decision)

    def after_load_checkpoint(self, runner: 'Runner', checkpoint: Dict) -> None:
        """Take back the evaluations and the decision of a resumed run."""
        state = checkpoint.get('until_converged')
        if state is not None:
            self.points = [tuple(point) for point in state['points']]
            self.decision = state['decision']

    def _evaluated(self, runner: 'Runner', iteration: int, value: float) -> None:
        self.points.append((iteration, 100 * max(value, 0.0)))  # COCO's -1: nothing scored
        reason = stage_end_reason(self.points, iteration, self.cap)
        if reason is not None:
            self._decide(runner, iteration, reason)

    def _decide(self, runner: 'Runner', stage_end: int, reason: str) -> None:
        """End the full-LR stage after ``stage_end``: log it and write the schedule."""
        self.decision = dict(stage_end=stage_end, reason=reason)
        milestones, max_iters = self._apply(runner, stage_end)
        print_log(
            f'UntilConvergedHook: full-LR stage ended at iteration {stage_end}: {reason}; '
            f'LR x0.1 from iteration {milestones[0] + 1}, x0.01 from {milestones[1] + 1}, '
            f'end at {max_iters}.',
            logger='current',
        )
        if is_main_process():
            with open(osp.join(runner.work_dir, SCHEDULE_FILE), 'w') as f:
                json.dump(
                    dict(self.decision, milestones=milestones, max_iters=max_iters, cap=self.cap),
                    f,
                    indent=2,
                )

    def _apply(self, runner: 'Runner', stage_end: int) -> Tuple[List[int], int]:
        """Drop the LR after ``stage_end`` and end the run after the tail."""
        milestones = [stage_end, stage_end + self.tail[0]]
        max_iters = milestones[1] + self.tail[1]
        self._scheduler(runner).move_milestones(milestones)
        runner.train_loop._max_iters = max_iters
        return milestones, max_iters

    @staticmethod
    def _scheduler(runner: 'Runner') -> WarmupMultiStepLR:
        schedulers = runner.param_schedulers
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        found = [s for s in schedulers or () if isinstance(s, WarmupMultiStepLR)]
        if len(found) != 1 or len(found[0].milestones) != 2:
            raise UntilConvergedMisconfigured(
                'UntilConvergedHook shortens the full-LR stage of one WarmupMultiStepLR '
                "with two milestones (the paper's schedules); this run's param_scheduler "
                f'is {runner.cfg.param_scheduler}. Inherit a configs/_base_/schedules '
                'rethinking_*.py schedule.'
            )
        return found[0]
