"""Where the pack's configs and tools are, in a checkout and in an installed package alike.

Both hold them in ``mmrethink/.mim`` (mim's layout): links to the checkout's
``configs/`` and ``tools/``, copies in an installed package. Code that runs a tool or
reads a config file finds it here, never by walking up from its own file.
"""

import os.path as osp

MIM_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')
CONFIGS = osp.join(MIM_ROOT, 'configs')
TOOLS = osp.join(MIM_ROOT, 'tools')
