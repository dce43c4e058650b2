"""Issue: the stack imports, `mmrethink::` inheritance, registries, mim, resume."""

import os
import os.path as osp
import sys
import textwrap

import mmcv
import mmdet
import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import (
    REPO,
    SCRATCH,
    installed_env,
    kill_after_first_checkpoint,
    mini_options,
    run,
    scalars,
    train_cmd,
)
from mmrethink import registry as ours


@pytest.mark.stack
def test_stack_versions_and_compiled_ops():
    """The torch the venv was built for (requirements/build.txt's pin, or make
    test-stack's TORCH) with the pinned stack, and mmcv's ops compiled against it."""
    with open(osp.join(REPO, 'requirements', 'build.txt')) as f:
        pin = next(line.split('==')[1].strip() for line in f if line.startswith('torch=='))
    assert (
        torch.__version__.split('+')[0],
        mmcv.__version__,
        mmengine.__version__,
        mmdet.__version__,
        np.__version__.split('.')[0],
    ) == (os.environ.get('MMRETHINK_TORCH', pin), '2.1.0', '0.10.7', '3.3.0', '1')
    from mmcv.ops import nms, roi_align

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]  # the compiled kernel, not a Python fallback
    feats = torch.arange(16.0).view(1, 1, 4, 4)
    pooled = roi_align(feats, torch.tensor([[0.0, 0.0, 0.0, 4.0, 4.0]]), (1, 1), 1.0, 2)
    assert pooled.item() == pytest.approx(feats.mean().item())


@pytest.mark.stack
def test_config_outside_repo_inherits_with_scope(tmp_path):
    user_cfg = tmp_path / 'my_experiment.py'
    user_cfg.write_text(
        textwrap.dedent("""
        _base_ = 'mmrethink::rethinking/mask-rcnn_r50-scratch_fpn_gn-all_2x_coco.py'
        train_cfg = dict(max_iters=1234)
        model = dict(roi_head=dict(bbox_head=dict(num_classes=7)))
    """)
    )
    cfg = Config.fromfile(str(user_cfg))
    assert cfg.train_cfg.max_iters == 1234
    assert cfg.param_scheduler.milestones == [120000, 160000]  # inherited
    from mmdet.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    assert model.roi_head.bbox_head.num_classes == 7
    assert type(model.backbone.layer1[0].gn1).__name__ == 'GroupNorm'


def test_every_mmdet_registry_has_a_child_in_scope_mmrethink():
    from mmdet import registry as mmdet_registry
    from mmengine.registry import Registry

    names = [
        n
        for n in dir(mmdet_registry)
        if isinstance(getattr(mmdet_registry, n), Registry) and not n.startswith('MMENGINE')
    ]
    assert len(names) == 20
    for name in names:
        child = getattr(ours, name)
        assert child.parent is getattr(mmdet_registry, name), name
        assert child.scope == 'mmrethink', name


def test_registered_type_resolves_under_both_scopes():
    from mmdet.registry import MODELS as MMDET_MODELS

    backbone = dict(type='ResNet', depth=18, base_channels=8, norm_cfg=dict(type='BN'))
    plain = dict(type='BackboneClassifier', backbone=backbone, num_classes=3, in_channels=64)
    with DefaultScope.overwrite_default_scope('mmdet'):
        assert type(MMDET_MODELS.build(plain)).__name__ == 'BackboneClassifier'
        scoped = dict(plain, _scope_='mmrethink')
        assert type(MMDET_MODELS.build(scoped)).__name__ == 'BackboneClassifier'
        assert MMDET_MODELS.get('mmrethink.BackboneClassifier') is ours.MODELS.get(
            'BackboneClassifier'
        )
    with DefaultScope.overwrite_default_scope('mmrethink'):
        # mmdet's own types still resolve from our scope, through the parent
        assert type(ours.MODELS.build(backbone)).__name__ == 'ResNet'


def test_name_clash_with_mmdet_is_refused():
    with pytest.raises(KeyError, match='ResNet'):

        @ours.MODELS.register_module()
        class ResNet(torch.nn.Module):  # noqa: F811
            pass


@pytest.mark.slow
def test_mim_train_and_test_run_the_pack(shapes, tmp_path):
    work_dir = str(tmp_path / 'mim')
    mim = [sys.executable, '-m', 'mim']
    train = run(
        mim
        + [
            'train',
            'mmrethink',
            osp.basename(SCRATCH),
            '--work-dir',
            work_dir,
            '--cfg-options',
            *mini_options(shapes, max_iters=2, val_interval=2),
        ],
        cwd=str(tmp_path),
    )
    assert 'Training finished successfully' in train.stdout
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    test = run(
        mim
        + [
            'test',
            'mmrethink',
            osp.basename(SCRATCH),
            '--checkpoint',
            osp.join(work_dir, 'iter_2.pth'),
            '--work-dir',
            str(tmp_path / 't'),
            '--cfg-options',
            *mini_options(shapes),
        ],
        cwd=str(tmp_path),
    )
    assert 'Testing finished successfully' in test.stdout
    assert 'coco/bbox_mAP' in test.stdout + test.stderr


@pytest.mark.slow
def test_mim_train_unknown_config_says_so(tmp_path):
    proc = run(
        [sys.executable, '-m', 'mim', 'train', 'mmrethink', 'no-such-config_1x_coco.py'],
        check=False,
        cwd=str(tmp_path),
    )
    assert proc.returncode != 0
    assert 'can not find the config file' in proc.stdout + proc.stderr


@pytest.mark.stack
@pytest.mark.slow
def test_resume_after_sigkill_continues_schedule_and_counts(shapes, tmp_path):
    """4 iterations, SIGKILL, --resume: iterations 5-8 match an uninterrupted run."""
    full, killed = str(tmp_path / 'full'), str(tmp_path / 'killed')
    options = mini_options(shapes, max_iters=8, val_interval=4)
    run(train_cmd(SCRATCH, full, options))
    checkpoint = kill_after_first_checkpoint(train_cmd(SCRATCH, killed, options), killed)
    assert checkpoint.endswith('iter_4.pth')
    resumed = run(train_cmd(SCRATCH, killed, options, '--resume'))
    assert 'resumed' in (resumed.stdout + resumed.stderr).lower()
    lrs_full = {r['iter']: r['lr'] for r in scalars(full)}
    lrs_resumed = {r['iter']: r['lr'] for r in scalars(killed)}
    assert min(i for i in lrs_resumed if i > 4) == 5
    assert all(lrs_resumed[i] == pytest.approx(lrs_full[i], rel=1e-9) for i in range(5, 9))
    from mmrethink.utils.convergence_records import read_convergence

    full_log = read_convergence(osp.join(full, 'convergence.jsonl'))
    resumed_log = read_convergence(osp.join(killed, 'convergence.jsonl'))
    keys = ('iter', 'images', 'instances', 'pixels', 'lr')
    assert [{k: r[k] for k in keys} for r in resumed_log] == [
        {k: r[k] for k in keys} for r in full_log
    ]


@pytest.mark.stack
@pytest.mark.slow
def test_resume_under_weights_only_torch_load(shapes, tmp_path):
    """torch >= 2.6 loads mmengine checkpoints with weights_only=True, the default."""
    work_dir = str(tmp_path / 'w')
    run(train_cmd(SCRATCH, work_dir, mini_options(shapes, max_iters=2, val_interval=2)))
    checkpoint = torch.load(osp.join(work_dir, 'iter_2.pth'))  # weights_only default
    assert checkpoint['meta']['iter'] == 2
    assert 'train/loss' in checkpoint['message_hub']['log_scalars']


def test_a_config_text_is_formatted_once_and_as_yapf_formats_it(monkeypatch):
    """The Runner reads ``cfg.pretty_text`` at every checkpoint; with the package imported,
    yapf formats each distinct text once, and the text is what yapf alone gives."""
    import mmengine.config.config as mmengine_config

    from mmrethink.compat.config_text import _once_per_text

    yapf_alone = mmengine_config.FormatCode.wrapped_format  # installed by `import mmrethink`
    formatted = []

    def counted(text, **kwargs):
        formatted.append(text)
        return yapf_alone(text, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', _once_per_text(counted))
    cfg = Config(dict(model=dict(type='MaskRCNN', backbone=dict(depth=50)), lr=0.02))
    texts = [cfg.pretty_text for _ in range(3)]
    cfg.lr = 0.01
    changed = cfg.pretty_text
    assert len(formatted) == 2  # the first text once, the changed one once
    assert 'lr = 0.01' in changed and 'lr = 0.02' in texts[0]
    monkeypatch.setattr(mmengine_config, 'FormatCode', yapf_alone)
    uncached = Config(dict(model=dict(type='MaskRCNN', backbone=dict(depth=50)), lr=0.02))
    assert texts == [uncached.pretty_text] * 3


def test_untrusted_pickle_still_refused(tmp_path):
    """Only mmengine's own contents are allowed: code execution and getattr tricks fail."""
    import os
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer

    class RunsCode:
        def __reduce__(self):
            return (os.system, ('echo unsafe',))

    class ReachesInternals:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    for payload in (RunsCode(), ReachesInternals()):
        path = str(tmp_path / 'untrusted.pth')
        torch.save({'state_dict': {}, 'payload': payload}, path)
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path)


@pytest.mark.stack
@pytest.mark.slow
def test_installed_package_resolves_its_configs(tmp_path):
    """A regular install (what `make` does and `mim` needs) serves `mmrethink::` too."""
    user_cfg = tmp_path / 'mine.py'
    user_cfg.write_text(
        "_base_ = 'mmrethink::demo/"
        "mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py'\n"
        'train_cfg = dict(max_iters=7)\n'
    )
    proc = run(
        [
            sys.executable,
            '-c',
            'import mmrethink, os.path as osp; from mmengine.config import Config; '
            f'cfg = Config.fromfile({str(user_cfg)!r}); '
            'print(osp.dirname(mmrethink.__file__), cfg.train_cfg.max_iters, '
            'cfg.param_scheduler.milestones)',
        ],
        cwd=str(tmp_path),
        env=installed_env(),
    )
    package_dir, max_iters, milestones = proc.stdout.split(maxsplit=2)
    assert 'site-packages' in package_dir and package_dir != osp.join(REPO, 'mmrethink')
    assert (max_iters, milestones.strip()) == ('7', '[4800, 5200]')  # the demo's 6x, unchanged
