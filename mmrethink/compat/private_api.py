"""Every upstream name the package uses that its owner does not promise to keep.

Private names (a leading underscore), names a module defines but its package does not
export, and module attributes the package replaces. Each entry says where it lives
upstream, which of the package's modules use it and why no public name does the job.
``tests/test_private_api.py`` resolves every entry (an upstream rename fails there,
naming the entry, before the code using it breaks at run time) and scans the package
for private upstream names missing from this table, so the table stays complete.
"""

from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class PrivateUse:
    """One upstream name: its dotted path, the pack modules using it, and why.

    ``instance_attribute``: set in the class's ``__init__`` rather than defined on the
    class, so it is checked in the class's source.
    """

    upstream: str
    used_in: Tuple[str, ...]
    why: str
    instance_attribute: bool = False


PRIVATE_API: Tuple[PrivateUse, ...] = (
    PrivateUse(
        'mmengine.runner.Runner._train_loop',
        ('mmrethink.diagnostics.runner_stepping',),
        'the unbuilt train loop config; Runner.train() builds it, with no public step '
        'for that alone (the benchmark steps several Runners one iteration at a time)',
        instance_attribute=True,
    ),
    PrivateUse(
        'mmengine.runner.Runner._init_model_weights',
        ('mmrethink.diagnostics.runner_stepping',),
        "Runner.train()'s weight initialization, no public equivalent (same reason)",
    ),
    PrivateUse(
        'mmengine.optim._ParamScheduler',
        ('mmrethink.engine.schedulers.warmup_multistep_lr',),
        "the base class of mmengine's schedulers, exported in mmengine.optim.__all__ for "
        'custom schedulers; WarmupMultiStepLR subclasses it',
    ),
    PrivateUse(
        'mmengine.optim._ParamScheduler._get_value',
        ('mmrethink.engine.schedulers.warmup_multistep_lr',),
        'the method every mmengine scheduler overrides to give its values',
    ),
    PrivateUse(
        'mmengine.runner.IterBasedTrainLoop._max_iters',
        ('mmrethink.engine.hooks.until_converged_hook',),
        "the loop's length (public read-only as max_iters); no public way to end a run "
        'earlier than configured, as UntilConvergedHook does once the full-LR stage ends',
        instance_attribute=True,
    ),
    PrivateUse(
        'mmengine.optim.scheduler.lr_scheduler.LRSchedulerMixin',
        ('mmrethink.engine.schedulers.warmup_multistep_lr',),
        "makes a scheduler act on the LR, as mmengine's own LR schedulers do; not "
        'exported by mmengine.optim',
    ),
    PrivateUse(
        'mmengine.optim.scheduler.param_scheduler.INF',
        ('mmrethink.launching.batch_scaling',),
        'the default end of mmengine\'s schedulers ("until training ends"), not '
        'exported; comparing against it recognizes an end left at its default',
    ),
    PrivateUse(
        'mmengine.utils.dl_utils.set_multi_processing',
        ('mmrethink.launching.launch',),
        "Runner.setup_env's multiprocessing set-up (exported by mmengine.utils.dl_utils, "
        'not by mmengine.utils), called in its order before the process group starts '
        'early on GPUs',
    ),
    PrivateUse(
        'mmengine.config.utils.MODULE2PACKAGE',
        ('mmrethink.compat.config_scope',),
        "the scopes mmengine's config parser resolves in pkg::path; no public way to add one",
    ),
    PrivateUse(
        'mmengine.config.config.get_installed_path',
        ('mmrethink.compat.config_scope',),
        "the config parser's package lookup, replaced (monkeypatched) so that "
        'mmrethink:: points at the imported package, not a site-packages copy',
    ),
    PrivateUse(
        'mmengine.config.config.FormatCode',
        ('mmrethink.compat.config_text',),
        "yapf's formatter as mmengine's Config.pretty_text calls it, replaced "
        '(monkeypatched) by one that formats each text once: the Runner formats the same '
        'config at every checkpoint, and no setting turns that off for the checkpoints alone',
    ),
    PrivateUse(
        'mmdet.models.test_time_augs.det_tta.DetTTAModel._merge_single_sample',
        ('mmrethink.models.mask_tta',),
        "DetTTAModel's merge of one image's views, the method mmdet's own merge_preds calls "
        'per image; DetMaskTTAModel overrides it to keep masks (mmdet 3.3 refuses them)',
    ),
    PrivateUse(
        'mmengine.model.BaseInit._get_init_info',
        ('mmrethink.models.detectron2_init',),
        "the description every mmengine initializer gives of itself (mmengine's own call "
        'it for the init log); Detectron2Init overrides it to name its rules',
    ),
    PrivateUse(
        'mmdet.models.backbones.resnet.BasicBlock',
        ('mmrethink.models.detectron2_init',),
        "ResNet's residual blocks, not exported by mmdet.models: Detectron2 zeroes the "
        "last norm of each block, found by the block's type",
    ),
    PrivateUse(
        'mmdet.models.backbones.resnet.Bottleneck',
        ('mmrethink.models.detectron2_init',),
        'as BasicBlock',
    ),
    PrivateUse(
        'mmdet.datasets.transforms.LoadAnnotations',
        ('mmrethink.datasets.keypoint_transforms',),
        "mmdet's annotation loader, exported by its transforms package only; "
        'LoadKeypointAnnotations subclasses it to load keypoints beside boxes and masks',
    ),
    PrivateUse(
        'mmdet.datasets.transforms.PackDetInputs',
        ('mmrethink.datasets.keypoint_transforms',),
        'as LoadAnnotations; PackKeypointDetInputs subclasses it to pack keypoints too',
    ),
    PrivateUse(
        'mmdet.evaluation.metrics.CocoMetric._coco_api',
        ('mmrethink.evaluation.coco_keypoint_metric',),
        'the ground truth CocoMetric read from ann_file; CocoKeypointMetric evaluates '
        'keypoints on it rather than reading the file a second time',
        instance_attribute=True,
    ),
    PrivateUse(
        'torch.nn.modules.batchnorm._BatchNorm',
        ('mmrethink.engine.hooks.arm_guard_hook', 'mmrethink.models.detectron2_init'),
        "the base of every batch norm, torch's and mmengine's SyncBN-reverted "
        '_BatchNormXd too; no public class covers them all',
    ),
    PrivateUse(
        'torch.nn.modules.conv._ConvNd',
        ('mmrethink.models.detectron2_init',),
        'the base of every convolution, transposed ones (the mask head) included; no '
        'public class covers them all',
    ),
    PrivateUse(
        'numpy.core.multiarray._reconstruct',
        ('mmrethink.compat.checkpoint_loading',),
        "the name numpy arrays pickle under, in mmengine's checkpoints; torch's "
        'weights_only allowlist needs that exact object',
    ),
    PrivateUse(
        'torch.nn.Module._register_load_state_dict_pre_hook',
        ('mmrethink.compat.torch_features',),
        'the load hook with the module as first argument before torch 2.5 made '
        'register_load_state_dict_pre_hook public (VGGFCBBoxHead loads torchvision fcs)',
    ),
)
