"""Where the pack's configs and tools are, in a checkout and in an installed package alike.

Both hold them in ``mmrethink/.mim`` (mim's layout): links to the checkout's
``configs/`` and ``tools/``, copies in an installed package. Code that runs a tool or
reads a config file finds it here, never by walking up from its own file.
"""

import os.path as osp
import sys
from typing import List

MIM_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')
CONFIGS = osp.join(MIM_ROOT, 'configs')
TOOLS = osp.join(MIM_ROOT, 'tools')


def train_command(config: str, work_dir: str, processes: int = 1) -> List[str]:
    """The launcher a user calls: ``tools/train.py`` for one process,
    ``tools/dist_train.sh`` for more (with this interpreter as its ``PYTHON``, whatever
    is on ``PATH``); options go after it."""
    if processes > 1:
        launcher = osp.join(osp.realpath(TOOLS), 'dist_train.sh')  # the checkout's, if linked
        cmd = ['env', f'PYTHON={sys.executable}', 'bash', launcher, config, str(processes)]
    else:
        cmd = [sys.executable, osp.join(TOOLS, 'train.py'), config]
    return cmd + ['--work-dir', work_dir]
