"""The pack's refusals, and how the tools print them.

A refusal is the pack saying no to input it can name the fix for (a config, a dataset, a
checkpoint, a work dir). Under thirty lines of traceback such a message reads as a
crash, so the tools print it alone and exit non-zero; the traceback comes back with
``MMRETHINK_DEBUG=1``. Anything else keeps Python's own report.
"""

import os
import sys
from contextlib import contextmanager
from typing import Iterator

DEBUG_VARIABLE = 'MMRETHINK_DEBUG'
# The exit status of a refused run (argparse's for a bad command line).
REFUSED = 2


class Refusal(Exception):
    """Input the pack refuses to run with; the message names the problem and the fix."""


def _rank() -> int:
    """This process's rank as the launchers export it (0 outside a distributed run)."""
    for variable in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if variable in os.environ:
            return int(os.environ[variable])
    return 0


@contextmanager
def refusals_printed(program: str) -> Iterator[None]:
    """Print a :class:`Refusal` raised inside as ``program: message`` and exit with
    status 2, without a traceback (unless ``MMRETHINK_DEBUG=1``). In a distributed run
    each rank refuses alike: rank 0 prints the message, every other rank one line."""
    try:
        yield
    except Refusal as refusal:
        if os.environ.get(DEBUG_VARIABLE, '') not in ('', '0'):
            raise
        rank = _rank()
        if rank == 0:
            print(f'{program}: {refusal}', file=sys.stderr)
            print(f'(the traceback: rerun with {DEBUG_VARIABLE}=1)', file=sys.stderr)
        else:
            print(f'{program}: rank {rank} refused too (message on rank 0)', file=sys.stderr)
        raise SystemExit(REFUSED) from None
