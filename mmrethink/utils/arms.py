"""The two arms of every comparison: trained from scratch, or from ImageNet weights.

The vocabulary the configs (``ArmGuardHook(arm=...)``), the paired configs and the
tools share, so that each spells an arm the same way and lists them in the same order.
"""

from typing import Tuple

ARMS: Tuple[str, ...] = ('scratch', 'pretrained')
