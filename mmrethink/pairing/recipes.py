"""The recipes a paired experiment can follow: a schedule rule and the pack's arms.

A recipe is a reference run on COCO train2017 (its :class:`ScheduleRule` in
:mod:`mmrethink.engine.schedule_rules`, which sizes its schedules to any dataset and total
batch by images seen) and the pack's arms that follow it: the paper's 1x
(``configs/rethinking``) or Detectron2's LSJ 100 epochs (``configs/modern``).
"""

from typing import Dict, NamedTuple, Tuple

from mmrethink.engine.schedule_rules import LSJ_RULE, PAPER_RULE, ScheduleRule


class Recipe(NamedTuple):
    """A reference run's schedule rule and the pack's arms that follow it."""

    name: str  # the value of --recipe
    rule: ScheduleRule  # its schedules at any length, dataset and batch
    name_format: str  # the schedule's component of a config name
    # (keypoints, masks or boxes, norm) -> arm, with {depth}, {arm}
    bases: Dict[Tuple[str, str], str]
    norm: str  # the default --norm
    lengths: Dict[str, float]  # each arm's default length, in the rule's unit
    batch_per_gpu: int  # default images per GPU (the reference runs use 8 GPUs)
    # --until-converged: both arms' default cap, the longest run of the reference
    cap: float


PAPER = Recipe(
    name='paper',
    rule=PAPER_RULE,
    name_format='{:g}x',
    bases={
        ('mask', 'gn'): 'mmrethink::rethinking/mask-rcnn_r{depth}-{arm}_fpn_gn-all_1x_coco.py',
        ('mask', 'syncbn'): (
            'mmrethink::rethinking/mask-rcnn_r{depth}-{arm}_fpn_syncbn-all_1x_coco.py'
        ),
        ('box', 'gn'): 'mmrethink::rethinking/faster-rcnn_r50-{arm}_fpn_gn-all_3x_coco.py',
        ('keypoint', 'gn'): (
            'mmrethink::rethinking/keypoint-rcnn_r50-{arm}_fpn_gn-all_2x_coco-person-keypoints.py'
        ),
    },
    norm='gn',
    lengths=dict(scratch=3.0, pretrained=1.0),
    batch_per_gpu=2,
    cap=9.0,  # the paper's longest: Table 3's 9x
)
LSJ = Recipe(
    name='lsj',
    rule=LSJ_RULE,
    name_format='lsj-{:g}e',
    bases={
        ('mask', 'syncbn'): (
            'mmrethink::modern/mask-rcnn_r{depth}-{arm}_fpn_syncbn-all_lsj-100e_coco.py'
        ),
    },
    norm='syncbn',  # Detectron2's new baselines: SyncBN everywhere
    # configs/modern: 25 ep is the pretrained-only quarter of 100 ep, compared with the
    # 100 ep scratch arm.
    lengths=dict(scratch=100.0, pretrained=25.0),
    batch_per_gpu=8,
    cap=400.0,  # Detectron2's longest new baseline
)
RECIPES = {recipe.name: recipe for recipe in (PAPER, LSJ)}
