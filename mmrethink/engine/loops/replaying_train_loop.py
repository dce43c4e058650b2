"""An iteration-based training loop whose resume replays the data stream exactly."""

import copy
import logging
from typing import Any, Dict, Iterator

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from mmrethink.datasets.replayable_stream import ReplayingBatchSampler
from mmrethink.registry import LOOPS

# Samplers whose stream PositionedInfiniteSampler reproduces.
INFINITE_SAMPLERS = ('InfiniteSampler', 'mmengine.InfiniteSampler')


def replayable(dataloader: Dict) -> Dict:
    """The dataloader config drawing the same stream, replayable (datasets/
    replayable_stream.py); unchanged, with a warning, for another sampler."""
    sampler = dataloader.get('sampler') or {}
    if sampler.get('type') not in INFINITE_SAMPLERS:
        print_log(
            f'ReplayingIterBasedTrainLoop: sampler {sampler.get("type")} is not '
            "mmengine's InfiniteSampler; --resume skips batches by loading them, and the "
            'resumed run may draw other augmentations than the uninterrupted one.',
            logger='current',
            level=logging.WARNING,
        )
        return dataloader
    dataloader = copy.deepcopy(dataloader)
    dataloader['sampler'] = dict(sampler, type='PositionedInfiniteSampler')
    dataloader['batch_sampler'] = dict(
        type='ReplayingBatchSampler', batch_sampler=dataloader.get('batch_sampler')
    )
    dataloader['dataset'] = dict(type='PositionSeededDataset', dataset=dataloader['dataset'])
    return dataloader


class _Drawn:
    """What the parent loop's skip draws on resume: ``skipped`` placeholders (the
    batch sampler has already dropped those batches), then the stream."""

    def __init__(self, skipped: int, stream: Iterator) -> None:
        self.skipped = skipped
        self.stream = stream

    def __next__(self) -> Any:
        if self.skipped:
            self.skipped -= 1
            return None
        return next(self.stream)


@LOOPS.register_module()
class ReplayingIterBasedTrainLoop(IterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop``, resuming without loading the batches it skips.

    The train dataloader draws a replayable stream (:func:`replayable`). On resume at
    iteration k the batch sampler drops its first k batches, drawing their indices
    only, with the sampler seed the checkpoint records (RandomStateHook): no image is
    loaded and no random number of the run is consumed, so iteration k + 1 gets the
    batch, and the augmentations, it got in the uninterrupted run. With
    ``RandomStateHook`` (every pack config has both) the
    model's random draws continue exactly too. Arguments as ``IterBasedTrainLoop``.
    """

    def __init__(self, runner, dataloader: Any, **kwargs) -> None:
        if isinstance(dataloader, dict):
            dataloader = replayable(dataloader)
        super().__init__(runner, dataloader, **kwargs)

    @property
    def replays(self) -> bool:
        """Whether a resume replays the stream (else mmengine's skip by loading)."""
        return isinstance(self.dataloader.batch_sampler, ReplayingBatchSampler)

    def run(self) -> Any:
        """Train; after a resume, continue the stream where the checkpoint left it."""
        if self.iter > 0 and self.replays:
            batches = self.dataloader.batch_sampler
            batches.skip = self.iter  # its sampler has the checkpoint's seed (RandomStateHook)
            fresh = type(self.dataloader_iterator)(self.dataloader)
            self.dataloader_iterator = _Drawn(self.iter, fresh)
        return super().run()
