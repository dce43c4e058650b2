"""Issue: many processes, long runs, bad input."""

import copy
import glob
import json
import os
import os.path as osp
import textwrap
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from helpers import REPO, SCRATCH, checkout_env, mini_options, run, scalars, train_cmd
from mmrethink.datasets.coco_check import CocoDatasetError
from mmrethink.engine.hooks.finite_loss_hook import FiniteLossHook
from mmrethink.launching.launch import prepare_launch
from mmrethink.launching.preflight import (
    PreflightError,
    check_coco_dataset,
    check_work_dir,
    explained_build_errors,
)

RANK_DUMP = textwrap.dedent('''
    """Test plugin: each rank saves its parameters and the images it trained on, and
    leaves a mark beside each file mmengine's LoggerHook dumps from it."""
    import os.path as osp
    import torch
    from mmengine.dist import get_rank
    from mmengine.hooks import Hook, logger_hook
    from mmdet.registry import HOOKS

    _dump = logger_hook.dump


    def _marked_dump(obj, file, **kwargs):
        open(f'{file}.rank{get_rank()}', 'w').close()
        return _dump(obj, file, **kwargs)


    logger_hook.dump = _marked_dump


    @HOOKS.register_module()
    class RankDumpHook(Hook):
        def before_train(self, runner):
            self.img_ids = []
            self.initial = {k: v.clone() for k, v in runner.model.module.state_dict().items()}

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            self.img_ids += [s.img_id for s in data_batch['data_samples']]

        def after_train(self, runner):
            torch.save(dict(img_ids=self.img_ids, initial=self.initial,
                            final=runner.model.module.state_dict(),
                            wrapper=type(runner.model).__name__),
                       osp.join(runner.work_dir, f'rank{get_rank()}.pt'))
''')


def _metrics(work_dir: str) -> dict:
    [path] = glob.glob(osp.join(work_dir, '*', '*.json'))
    with open(path) as f:
        return json.load(f)


@pytest.mark.stack
@pytest.mark.slow
def test_two_processes_on_cpu_train_split_and_evaluate(shapes, tmp_path):
    plugin_dir = tmp_path / 'plugin'
    plugin_dir.mkdir()
    (plugin_dir / 'rank_dump.py').write_text(RANK_DUMP)
    env = checkout_env()
    env['PYTHONPATH'] += os.pathsep + str(plugin_dir)
    work_dir = str(tmp_path / 'ddp')
    config = tmp_path / 'ddp_config.py'  # custom_imports act at parse time, not as options
    config.write_text(
        f"_base_ = '{SCRATCH}'\n"
        "custom_imports = dict(imports=['mmrethink', 'rank_dump'])\n"
        "default_hooks = dict(rank_dump=dict(type='RankDumpHook'))\n"
    )
    options = mini_options(shapes, max_iters=4, val_interval=4) + [
        'model.test_cfg.rcnn.score_thr=0.0',
        'randomness.seed=0',
    ]
    run(
        [
            osp.join(REPO, 'tools', 'dist_train.sh'),
            str(config),
            '2',
            '--work-dir',
            work_dir,
            '--cfg-options',
            *options,
        ],
        env=env,
    )
    ranks = [torch.load(osp.join(work_dir, f'rank{r}.pt'), weights_only=False) for r in (0, 1)]
    assert ranks[0]['wrapper'] == 'MMDistributedDataParallel'
    for key, value in ranks[0]['final'].items():
        assert torch.equal(value, ranks[1]['final'][key]), key  # gradients were synced
    moved = [
        k
        for k, v in ranks[0]['final'].items()
        if v.is_floating_point() and not torch.equal(v, ranks[0]['initial'][k])
    ]
    assert len(moved) > 50  # and the model trained
    epoch = 8  # 16 images / 2 ranks: the first 8 samples of each rank are one epoch
    first = [set(r['img_ids'][:epoch]) for r in ranks]
    assert len(first[0]) == len(first[1]) == epoch and not first[0] & first[1]
    # Evaluation gathered from 2 ranks equals one process on the same checkpoint.
    checkpoint = osp.join(work_dir, 'iter_4.pth')
    test_options = mini_options(shapes) + ['model.test_cfg.rcnn.score_thr=0.0']
    run(
        [
            osp.join(REPO, 'tools', 'dist_test.sh'),
            str(config),
            checkpoint,
            '2',
            '--work-dir',
            str(tmp_path / 't2'),
            '--cfg-options',
            *test_options,
        ],
        env=env,
    )
    # One process writes the metrics JSON: two writing one file left it unparsable
    # ('...}5}') in a CI run.
    writers = sorted(glob.glob(osp.join(tmp_path, 't2', '*', '*.json.rank*')))
    assert [osp.basename(w).rsplit('.', 1)[1] for w in writers] == ['rank0']
    run(
        [
            'python',
            osp.join(REPO, 'tools', 'test.py'),
            SCRATCH,
            checkpoint,
            '--work-dir',
            str(tmp_path / 't1'),
            '--cfg-options',
            *test_options,
        ]
    )
    two, one = _metrics(str(tmp_path / 't2')), _metrics(str(tmp_path / 't1'))
    assert 'coco/bbox_mAP' in one and 'coco/segm_mAP' in one
    assert {k: v for k, v in two.items() if k.startswith('coco')} == {
        k: v for k, v in one.items() if k.startswith('coco')
    }


def test_sync_bn_falls_back_to_bn_with_one_warning():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_syncbn-all_1x_coco.py')
    )
    assert 'SyncBN' in str(cfg.model)
    with pytest.warns(UserWarning, match='SyncBN is used as plain BN') as caught:
        prepare_launch(cfg, 'none')
    assert len([w for w in caught if 'SyncBN' in str(w.message)]) == 1
    assert 'SyncBN' not in str(cfg.model) and "'type': 'BN'" in str(cfg.model)


@pytest.mark.slow
def test_same_seed_deterministic_gives_identical_losses(shapes, tmp_path):
    options = mini_options(shapes, max_iters=3, val_interval=3) + [
        'randomness.seed=7',
        'randomness.deterministic=True',
    ]
    losses = []
    for name in ('a', 'b'):
        work_dir = str(tmp_path / name)
        run(train_cmd(SCRATCH, work_dir, options))
        losses.append([(r['iter'], r['loss']) for r in scalars(work_dir)])
    assert len(losses[0]) == 3 and losses[0] == losses[1]


def test_non_finite_loss_stops_with_iteration_terms_and_lr(tmp_path):
    runner = SimpleNamespace(
        iter=41,
        work_dir=str(tmp_path),
        optim_wrapper=SimpleNamespace(get_lr=lambda: {'lr': [0.02]}),
    )
    hook = FiniteLossHook()
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.0), acc=torch.tensor(9.0)))
    with pytest.raises(
        FloatingPointError, match=r'iteration 42: loss=nan, loss_cls=inf, lr=0\.02.*clip_grad'
    ):
        hook.after_train_iter(
            runner,
            0,
            outputs=dict(loss=torch.tensor(float('nan')), loss_cls=torch.tensor(float('inf'))),
        )


# ---- bad input: each names the problem and the fix ----------------------------------


def _train_dataset(shapes: str):
    cfg = Config.fromfile(SCRATCH)
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset.data_root = shapes + '/'
    return cfg, dataset


def test_missing_dataset_root_and_annotation_file(shapes, tmp_path):
    cfg, dataset = _train_dataset(shapes)
    with pytest.raises(PreflightError, match=r'data_root .* does not exist.*data_root'):
        check_coco_dataset(
            'train_dataloader', dict(dataset, data_root=str(tmp_path / 'x')), cfg.model
        )
    with pytest.raises(CocoDatasetError, match='not found: check the path'):
        check_coco_dataset('train_dataloader', dict(dataset, ann_file='nope.json'), cfg.model)


def test_malformed_annotation_json(shapes, tmp_path):
    cfg, dataset = _train_dataset(shapes)
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'bad.json').write_text('{"images": [1,')
    (tmp_path / 'annotations' / 'notcoco.json').write_text('{"images": []}')
    dataset.data_root = str(tmp_path)
    with pytest.raises(CocoDatasetError, match='not valid JSON'):
        check_coco_dataset(
            'train_dataloader', dict(dataset, ann_file='annotations/bad.json'), cfg.model
        )
    lacks = r"lacks the COCO keys \['annotations', 'categories'\]"
    with pytest.raises(CocoDatasetError, match=lacks):
        check_coco_dataset(
            'train_dataloader', dict(dataset, ann_file='annotations/notcoco.json'), cfg.model
        )


def _copy_set(shapes: str, tmp_path, edit) -> str:
    import shutil

    root = str(tmp_path / 'set')
    shutil.copytree(shapes, root)
    path = osp.join(root, 'annotations', 'instances_train.json')
    coco = json.load(open(path))
    edit(coco, root)
    json.dump(coco, open(path, 'w'))
    return root


def test_images_listed_but_absent(shapes, tmp_path):
    cfg, dataset = _train_dataset(shapes)
    root = _copy_set(
        shapes,
        tmp_path,
        lambda coco, root: os.remove(osp.join(root, 'train', coco['images'][3]['file_name'])),
    )
    with pytest.raises(CocoDatasetError, match=r'1 images listed .* are not in .*data_prefix'):
        check_coco_dataset('train_dataloader', dict(dataset, data_root=root), cfg.model)


def test_num_classes_mismatch(shapes):
    cfg, dataset = _train_dataset(shapes)
    cfg.model.roi_head.bbox_head.num_classes = 80
    with pytest.raises(PreflightError, match='num_classes'):
        check_coco_dataset('train_dataloader', dataset, cfg.model)
    no_classes = dict(dataset, metainfo={})  # falls back to COCO's 80 names
    with pytest.raises(CocoDatasetError, match=r"no categories \['person'.*metainfo"):
        check_coco_dataset('train_dataloader', no_classes, cfg.model)


@pytest.mark.slow
def test_degenerate_annotations_are_skipped_with_a_count(shapes, tmp_path):
    def degrade(coco, root):
        coco['images'].append(
            dict(
                id=999,
                file_name=coco['images'][0]['file_name'],
                height=coco['images'][0]['height'],
                width=coco['images'][0]['width'],
            )
        )  # no annotation
        coco['annotations'][0]['bbox'][2] = 0  # zero-area box
        coco['annotations'][0]['area'] = 0
        coco['annotations'][1]['segmentation'] = [[1.0, 2.0, 3.0, 4.0]]  # 2 points

    root = _copy_set(shapes, tmp_path, degrade)
    cfg, dataset = _train_dataset(shapes)
    counts = check_coco_dataset('train_dataloader', dict(dataset, data_root=root), cfg.model)
    assert counts == dict(images_without_annotations=1, zero_area_boxes=1, degenerate_polygons=1)
    proc = run(
        train_cmd(SCRATCH, str(tmp_path / 'w'), mini_options(root, max_iters=2, val_interval=2))
    )
    assert (
        'skipped by the loader: 1 images without annotations, 1 zero area boxes, '
        '1 degenerate polygons' in proc.stdout + proc.stderr
    )


def test_group_norm_groups_must_divide_channels():
    from mmcv.cnn import build_norm_layer

    with pytest.raises(PreflightError, match='num_groups .* change norm_cfg.num_groups'):
        with explained_build_errors():
            build_norm_layer(dict(type='GN', num_groups=32), 48)


def test_work_dir_of_another_experiment_is_refused(tmp_path):
    work_dir = tmp_path / 'w'
    work_dir.mkdir()
    (work_dir / 'mask-rcnn_r50-scratch_fpn_gn-all_2x_coco.py').write_text('')
    with pytest.raises(PreflightError, match='holds another experiment'):
        check_work_dir(
            str(work_dir), 'configs/x/mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco.py', resume=True
        )
    (work_dir / 'iter_10.pth').write_text('')
    same = 'configs/x/mask-rcnn_r50-scratch_fpn_gn-all_2x_coco.py'
    with pytest.raises(PreflightError, match='Pass --resume'):
        check_work_dir(str(work_dir), same, resume=False)
    check_work_dir(str(work_dir), same, resume=True)  # continuing it is fine


@pytest.mark.slow
def test_train_cli_refuses_bad_input_before_building(shapes, tmp_path):
    options = mini_options(shapes) + ['train_dataloader.dataset.ann_file=missing.json']
    proc = run(train_cmd(SCRATCH, str(tmp_path / 'w'), options), check=False)
    assert proc.returncode != 0 and 'missing.json not found' in proc.stderr
    proc = run(
        train_cmd(
            SCRATCH, str(tmp_path / 'w2'), mini_options(shapes) + ['model.backbone.frozen_stages=1']
        ),
        check=False,
    )
    assert proc.returncode != 0
    assert 'model.backbone.frozen_stages=1 freezes more than the scratch arm may: set it to -1' in (
        proc.stderr
    )
    proc = run(
        train_cmd(
            SCRATCH, str(tmp_path / 'w3'), mini_options(shapes) + ['model.neck.out_channels=60']
        ),
        check=False,
    )
    assert proc.returncode != 0 and 'change norm_cfg.num_groups' in proc.stderr


@pytest.mark.slow
def test_kill_during_checkpoint_write_keeps_last_good_one(shapes, tmp_path):
    """mmengine points last_checkpoint at a file only after writing it: a kill during
    the write of iter_4.pth leaves a partial file and last_checkpoint at iter_2.pth."""
    work_dir = str(tmp_path / 'w')
    options = mini_options(shapes, max_iters=4, val_interval=2)
    run(train_cmd(SCRATCH, work_dir, options))
    partial = osp.join(work_dir, 'iter_4.pth')
    with open(partial, 'r+b') as f:
        f.truncate(os.path.getsize(partial) // 3)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'iter_2.pth'))
    proc = run(train_cmd(SCRATCH, work_dir, options, '--resume'))
    assert 'resumed epoch: 0, iter: 2' in (proc.stdout + proc.stderr).lower()
    assert torch.load(partial)['meta']['iter'] == 4  # rewritten whole
