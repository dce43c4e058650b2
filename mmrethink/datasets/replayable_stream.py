"""A training data stream that a resumed run can replay exactly, without loading it.

mmengine's ``InfiniteSampler`` draws one endless shuffled stream of indices, split over
the processes (``rank::world_size``); on ``--resume`` the loop skips the batches already
trained by loading them, which runs their pipelines (and their random augmentations)
again, and data loader workers restart with random states that depend on how many
batches they had loaded. Here each sample's randomness is a function of its place in
the stream, and skipping replays the batch sampler alone:

* :class:`PositionedInfiniteSampler` yields the same stream, each index encoded with
  its position in the stream and the stream's seed (still an ``int``, so every batch
  sampler, e.g. mmdet's ``AspectRatioBatchSampler``, takes it unchanged);
* :class:`PositionSeededDataset` decodes it and applies the dataset's pipeline with
  Python's, NumPy's and torch's generators seeded from (seed, position), putting the
  process's own random states back afterwards: the same sample gets the same
  augmentation in any process, worker or run;
* :class:`ReplayingBatchSampler` builds the configured batch sampler afresh for each
  pass and can skip its first batches by drawing them from the sampler only.
"""

import copy
import random
from typing import Any, Dict, Iterator, List, Optional, Sized, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from torch.utils.data import BatchSampler, Dataset, Sampler

from mmrethink.registry import DATA_SAMPLERS, DATASETS

# A position below 2**48 (2.8e14 samples) leaves room for the seed above it.
POSITION_BITS = 48


def encode(index: int, position: int, seed: int, size: int) -> int:
    """One ``int`` holding a dataset index, its stream position and the stream's seed."""
    return ((seed << POSITION_BITS) + position) * size + index


def decode(key: int, size: int) -> Tuple[int, int, int]:
    """``(index, position, seed)`` of a key made by :func:`encode`."""
    rest, index = divmod(key, size)
    seed, position = divmod(rest, 1 << POSITION_BITS)
    return index, position, seed


@DATA_SAMPLERS.register_module()
class PositionedInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` stream, each index encoded with its position.

    The position of an index is its place in the stream of all processes (rank r
    draws positions r, r + world_size, ...), so (seed, position) names one sample of
    the run wherever it is loaded. Each ``iter()`` starts the stream at its beginning;
    ``seed`` may be changed before it (a resumed run takes its checkpoint's).
    """

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed)
        start = 0  # the stream position of this pass's first index
        while True:  # the stream of InfiniteSampler._infinite_indices, one pass at a time
            if self.shuffle:
                order = torch.randperm(self.size, generator=generator).tolist()
            else:
                order = list(range(self.size))
            # this rank's positions: start + i with (start + i) % world_size == rank
            for i in range((self.rank - start) % self.world_size, self.size, self.world_size):
                yield encode(order[i], start + i, self.seed, self.size)
            start += self.size


@DATASETS.register_module()
class PositionSeededDataset(Dataset):
    """A dataset whose every sample is drawn with generators seeded by its place in
    the stream (keys of :class:`PositionedInfiniteSampler`).

    Args:
        dataset: The dataset, or its config.
    """

    def __init__(self, dataset: Union[Dataset, Dict]) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name == 'dataset':  # not yet set (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def get_data_info(self, key: int) -> Dict:
        """What batch samplers read (image sizes), for an encoded key."""
        return self.dataset.get_data_info(decode(key, len(self.dataset))[0])

    def __getitem__(self, key: int) -> Any:
        index, position, seed = decode(key, len(self.dataset))
        python, numpy, torch_cpu = (
            np.random.SeedSequence([seed, position]).generate_state(3).tolist()
        )
        saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
        random.seed(python)
        np.random.seed(numpy)
        torch.default_generator.manual_seed(torch_cpu)
        try:
            return self.dataset[index]
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_rng_state(saved[2])


@DATA_SAMPLERS.register_module()
class ReplayingBatchSampler(Sampler):
    """The configured batch sampler (torch's ``BatchSampler`` if none), built afresh
    for every pass, whose first ``skip`` batches are drawn and dropped without loading.

    Args:
        sampler: The sampler the batches are drawn from.
        batch_size: Images per batch.
        batch_sampler: The batch sampler's config, e.g. mmdet's
            ``AspectRatioBatchSampler``; None for plain batches of ``batch_size``.
    """

    def __init__(
        self, sampler: Sized, batch_size: int, batch_sampler: Optional[Dict] = None
    ) -> None:
        self.sampler = sampler
        self.batch_size = batch_size
        self.batch_sampler = batch_sampler
        self.skip = 0

    def _batches(self) -> Iterator[List[int]]:
        if self.batch_sampler is None:
            return iter(BatchSampler(self.sampler, self.batch_size, drop_last=False))
        default_args = dict(sampler=self.sampler, batch_size=self.batch_size)
        return iter(
            DATA_SAMPLERS.build(copy.deepcopy(self.batch_sampler), default_args=default_args)
        )

    def __iter__(self) -> Iterator[List[int]]:
        batches = self._batches()
        skip, self.skip = self.skip, 0
        for _ in range(skip):
            next(batches)
        yield from batches

    def __len__(self) -> int:
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
