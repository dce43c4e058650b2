"""Every process's random states in the checkpoints, put back where they were taken."""

import logging
import random
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from mmrethink.registry import HOOKS

from ..resume_world_size import CHANGE_KEY, check_resume_world_size
from .checkpoint_timing import checkpoint_due, checkpoint_to_resume

if TYPE_CHECKING:
    from mmengine.runner import Runner


def random_states() -> Dict:
    """This process's generators: Python's, NumPy's, torch's (and the GPU's), in types
    that torch's ``weights_only`` loading takes (NumPy's key as a list)."""
    name, key, position, has_gauss, gauss = np.random.get_state()
    states = dict(
        python=random.getstate(),
        numpy=(name, key.tolist(), position, has_gauss, gauss),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state()
    return states


def set_random_states(states: Dict) -> None:
    """Put back what :func:`random_states` took."""
    random.setstate(states['python'])
    name, key, position, has_gauss, gauss = states['numpy']
    np.random.set_state((name, np.array(key, dtype=np.uint32), position, has_gauss, gauss))
    # Runner.resume loads checkpoints onto the GPU; generator states must be CPU bytes.
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state(states['cuda'].cpu())


def _replayed_sampler(runner: 'Runner') -> Optional[object]:
    """The sampler a ReplayingIterBasedTrainLoop replays, if the run has one."""
    loop = runner.train_loop
    return loop.dataloader.batch_sampler.sampler if getattr(loop, 'replays', False) else None


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make a resumed run draw the random numbers the uninterrupted one drew.

    After each iteration that ends in a checkpoint, every process takes its random
    states (gathered to rank 0, which writes them into the checkpoint as
    ``random_states``, one per rank) and sets them again just before the next
    iteration. Whatever draws random numbers in between, an evaluation or a data
    loader starting, is so neutralized, in the uninterrupted run and in a run resumed
    from that checkpoint alike, which sets the checkpoint's states at the same point.
    The data stream is replayed by ``ReplayingIterBasedTrainLoop``; on GPU, kernels that
    are not deterministic still differ run to run. A resumed run logs what it restored.
    Each checkpoint also records the run's number of processes and per-process batch: a
    resume on another number is refused before anything is loaded
    (:mod:`mmrethink.engine.resume_world_size`). Under an epoch-based loop, whose
    checkpoints fall between epochs, nothing is restored and the run says so at start.
    """

    priority = 'VERY_HIGH'  # take the states before any other hook's after_train_iter

    def __init__(self) -> None:
        self.pending: Optional[Tuple[int, Dict]] = None  # (iteration, this rank's states)
        self.gathered: Optional[Tuple[int, List[Dict]]] = None  # rank 0: for the checkpoint
        self.resumed_from: Optional[str] = None

    def before_run(self, runner: 'Runner') -> None:
        """Refuse a resume on another number of processes (one that tools/train.py's
        ``--resume-other-world-size`` accepted is recorded in the config)."""
        if runner.cfg.get(CHANGE_KEY) is None:
            check_resume_world_size(runner.cfg, runner.work_dir, get_world_size(), allow=False)

    def before_train(self, runner: 'Runner') -> None:
        """Say at start-up when the loop is one whose resume is not exact."""
        if not isinstance(runner.train_loop, IterBasedTrainLoop) and is_main_process():
            print_log(
                f'RandomStateHook: {type(runner.train_loop).__name__} is not iteration-based: '
                "--resume restarts the interrupted epoch's data and random states, so a "
                'resumed run will not repeat the uninterrupted one exactly. Exact resume needs '
                "train_cfg=dict(type='ReplayingIterBasedTrainLoop', ...) (every pack schedule).",
                logger='current',
                level=logging.WARNING,
            )

    def after_train_iter(
        self, runner: 'Runner', batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        """At a checkpoint iteration, take every rank's states."""
        if isinstance(runner.train_loop, IterBasedTrainLoop) and checkpoint_due(runner):
            states = random_states()
            self.pending = (runner.iter + 1, states)
            self.gathered = (runner.iter + 1, all_gather_object(states))

    def before_save_checkpoint(self, runner: 'Runner', checkpoint: Dict) -> None:
        """Write the states taken for this checkpoint's iteration (not into a
        checkpoint of another iteration, as mmengine's best checkpoints)."""
        if self.gathered is not None and checkpoint['meta'].get('iter') == self.gathered[0]:
            checkpoint['random_states'] = self.gathered[1]
        checkpoint['meta'].update(
            world_size=get_world_size(),
            batch_per_process=runner.cfg.train_dataloader.batch_size,
        )
        sampler = _replayed_sampler(runner)
        if sampler is not None:
            checkpoint['meta']['sampler_seed'] = sampler.seed

    def after_load_checkpoint(self, runner: 'Runner', checkpoint: Dict) -> None:
        """Put back the resumed stream's seed; keep this rank's random states of the
        checkpoint for its next iteration."""
        if checkpoint_to_resume(runner) is None:  # weights loaded to test or fine-tune
            return
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            return  # its checkpoints are not taken at an iteration (said at start-up)
        sampler = _replayed_sampler(runner)
        if sampler is not None and 'sampler_seed' in checkpoint['meta']:
            sampler.seed = checkpoint['meta']['sampler_seed']  # the stream to replay
        states = checkpoint.get('random_states')
        iteration = checkpoint['meta'].get('iter', 0)
        if runner.cfg.get(CHANGE_KEY) is not None:
            return  # per-process states of another number of processes: logged at launch
        if states is None or len(states) != get_world_size():
            print_log(
                f'RandomStateHook: the checkpoint of iteration {iteration} has no random '
                'states: the run continues with fresh ones, so it will not repeat the '
                'uninterrupted run exactly.',
                logger='current',
                level=logging.WARNING,
            )
            return
        self.pending = (iteration, states[get_rank()])
        self.resumed_from = checkpoint_to_resume(runner)

    def before_train_iter(self, runner: 'Runner', batch_idx: int, data_batch=None) -> None:
        """Set the states taken at the last checkpoint, before the iteration after it."""
        if self.pending is None or batch_idx != self.pending[0]:
            return
        restored = ', '.join(self.pending[1])
        set_random_states(self.pending[1])
        self.pending = None
        if self.resumed_from is not None:
            data = (
                f'the sampler replayed {batch_idx} batches per process without loading them'
                if getattr(runner.train_loop, 'replays', False)
                else f'{batch_idx} batches per process skipped by loading them'
            )
            if is_main_process():
                print_log(
                    f'Resumed exactly from {self.resumed_from}: iteration {batch_idx}; data '
                    f'position: {data}; random states ({restored}) of '
                    f'{get_world_size()} processes restored.',
                    logger='current',
                )
            self.resumed_from = None
