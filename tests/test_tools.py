"""Issues: experiment tools (subset, hook, curves, accounting, table) and the demo."""

import json
import os.path as osp
import re
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import REPO, SCRATCH, run
from mmrethink.analysis.convergence import TOLERANCE
from mmrethink.datasets.coco_subset import make_subset, summary
from mmrethink.engine.hooks.convergence_hook import ConvergenceHook
from mmrethink.utils.convergence_records import read_convergence

TOOLS = osp.join(REPO, 'tools')


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
    """One smoke run of the main job; several tests read its output."""
    out = str(tmp_path_factory.mktemp('demo') / 'out')
    proc = run([sys.executable, osp.join(TOOLS, 'demo.py'), '--smoke', '--out', out])
    return out, proc.stdout


def _coco(n_images: int = 30):
    images = [dict(id=i, file_name=f'{i}.png', height=10, width=10) for i in range(1, n_images + 1)]
    anns = [
        dict(
            id=j,
            image_id=1 + j % n_images,
            category_id=1 + j % 3,
            bbox=[0, 0, 2, 2],
            area=4,
            iscrowd=0,
        )
        for j in range(70)
    ]
    cats = [dict(id=c, name=f'c{c}') for c in (1, 2, 3, 4)]
    return dict(images=images, annotations=anns, categories=cats, info={'v': 1})


def test_subset_is_seeded_keeps_categories_and_counts():
    coco = _coco()
    a, b, c = make_subset(coco, 10, 0), make_subset(coco, 10, 0), make_subset(coco, 10, 1)
    assert a == b and a != c
    ids = {im['id'] for im in a['images']}
    assert len(ids) == 10 and all(ann['image_id'] in ids for ann in a['annotations'])
    assert len(a['annotations']) == sum(ann['image_id'] in ids for ann in coco['annotations'])
    assert a['categories'] == coco['categories'] and a['info'] == coco['info']
    stats = summary(a)
    assert stats['images'] == 10 and stats['instances'] == len(a['annotations'])
    assert set(stats['per_category']) == {'c1', 'c2', 'c3', 'c4'}
    assert stats['per_category']['c4'] == 0


@pytest.mark.slow
def test_subset_cli_writes_and_refuses(tmp_path):
    ann = tmp_path / 'instances_train.json'
    ann.write_text(json.dumps(_coco()))
    tool = [sys.executable, osp.join(TOOLS, 'make_coco_subset.py'), str(ann)]
    proc = run(tool + ['--num-images', '12'])
    out = tmp_path / 'instances_train_12_seed0.json'
    assert 'wrote' in proc.stdout and '12 images' in proc.stdout
    assert len(json.loads(out.read_text())['images']) == 12
    again = run(tool + ['--num-images', '12'], check=False)
    assert again.returncode != 0 and '--force' in again.stderr
    assert run(tool + ['--num-images', '12', '--force']).returncode == 0
    too_many = run(tool + ['--num-images', '31'], check=False)
    assert too_many.returncode != 0 and 'has 30' in too_many.stderr
    missing = run(
        [
            sys.executable,
            osp.join(TOOLS, 'make_coco_subset.py'),
            str(tmp_path / 'nope.json'),
            '--num-images',
            '1',
        ],
        check=False,
    )
    assert missing.returncode != 0 and 'not found' in missing.stderr
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": [')
    broken = run(
        [sys.executable, osp.join(TOOLS, 'make_coco_subset.py'), str(bad), '--num-images', '1'],
        check=False,
    )
    assert broken.returncode != 0 and 'not valid JSON' in broken.stderr


def test_convergence_hook_counts_what_the_batches_hold(shapes, tmp_path):
    from mmengine.runner import Runner

    cfg = Config.fromfile(SCRATCH)
    cfg.train_dataloader.dataset.data_root = shapes + '/'
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
        batches = [b for _, b in zip(range(3), loader)]
    hook = ConvergenceHook()
    for batch in batches:
        hook.after_train_iter(None, 0, batch)
    images = sum(len(b['inputs']) for b in batches)
    pixels = sum(t.shape[1] * t.shape[2] for b in batches for t in b['inputs'])
    instances = sum(len(s.gt_instances.bboxes) for b in batches for s in b['data_samples'])
    assert hook.local == dict(images=images, instances=instances, pixels=pixels)
    runner = SimpleNamespace(
        iter=3, work_dir=str(tmp_path), optim_wrapper=SimpleNamespace(get_lr=lambda: {'lr': [0.01]})
    )
    hook.after_val_epoch(runner, {'coco/bbox_mAP': 0.25})
    hook.after_val_epoch(runner, {'coco/bbox_mAP': 0.5})  # a later record supersedes
    records = read_convergence(osp.join(str(tmp_path), 'convergence.jsonl'))
    assert records == [
        dict(
            iter=3,
            lr=0.01,
            images=images,
            instances=instances,
            pixels=pixels,
            **{'coco/bbox_mAP': 0.5},
        )
    ]


def test_convergence_hook_sums_ranks_before_checkpoints(shapes, monkeypatch):
    """Ranks are summed at the iteration a checkpoint is due (all_reduce standing in
    for a 2-process group of equal ranks); rank 0 then writes the sum."""
    import mmrethink.engine.hooks.convergence_hook as module

    monkeypatch.setattr(module, 'all_reduce', lambda t: t.mul_(2))
    from mmengine.hooks import CheckpointHook

    hook = ConvergenceHook()
    hooks = [CheckpointHook(interval=4, by_epoch=False, save_last=True)]
    batch = dict(
        inputs=[torch.zeros(3, 10, 20)], data_samples=[SimpleNamespace(gt_instances=[0, 1, 2])]
    )
    for it in range(4):
        hook.after_train_iter(SimpleNamespace(iter=it, max_iters=100, hooks=hooks), it, batch)
        synced = it == 3  # (iter + 1) % interval == 0
        assert hook.total['images'] == (8 if synced else 0)
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint['convergence'] == dict(images=8, instances=24, pixels=1600)
    assert hook.local == dict(images=0, instances=0, pixels=0)
    restored = ConvergenceHook()
    restored.after_load_checkpoint(None, dict(checkpoint, meta=dict(iter=4)))
    assert restored.total == checkpoint['convergence'] and restored.resumed_iter == 4


ARMS_RUN = [
    f'{arm}_{pair}' for pair in ('plentiful', 'scarce') for arm in ('scratch', 'pretrained')
]


def _shown_ap(records: list) -> str:
    """What results tables show for a run's last box AP: '—' for a run that never reports
    it; 0.0 for an evaluation that scored nothing (no metric, or COCO's -1)."""
    if not any('coco/bbox_mAP' in r for r in records):
        return '—'
    return f'{100 * max(records[-1].get("coco/bbox_mAP", 0.0), 0.0):.1f}'


@pytest.mark.slow
@pytest.mark.xdist_group('demo_smoke')
def test_demo_output_folder_and_numbers(demo):
    out, stdout = demo
    for name in [
        'curves.png',
        'curves.svg',
        'curves_images.png',
        'samples.png',
        'results.md',
        'samples.md',
        'summary.md',
        'logs/pre-train.log',
    ] + [f'logs/{arm}.log' for arm in ARMS_RUN]:
        assert osp.isfile(osp.join(out, name)), name
    assert '[3/5] plentiful pair' in stdout and '[4/5] scarce pair' in stdout
    assert re.search(r'4 arms, \d at a time', stdout)  # one per core, at most four
    assert re.search(r'demo ETA \d+:\d\d', stdout) and 'Done in' in stdout
    runs = {
        arm: read_convergence(osp.join(out, 'work_dirs', arm, 'convergence.jsonl'))
        for arm in ARMS_RUN
    }
    cfg = Config.fromfile(
        osp.join(out, 'configs', 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes-scarce.py')
    )
    batch = cfg.train_dataloader.batch_size
    assert cfg.train_dataloader.dataset.type == 'SyntheticShapesStream'
    assert cfg.train_dataloader.dataset.num_images == 8  # smoke's scarce set
    plentiful = Config.fromfile(
        osp.join(out, 'configs', 'mask-rcnn_r18-mini-pretrained_fpn_gn-all_shapes-plentiful.py')
    )
    assert plentiful.train_dataloader.dataset.num_images == 16  # smoke's plentiful set
    assert plentiful.model.backbone.init_cfg.checkpoint == osp.join(
        out, 'work_dirs', 'pretrain', 'iter_8.pth'
    )
    assert cfg.default_hooks.until_converged == dict(type='UntilConvergedHook')
    assert [hook.type for hook in cfg.custom_hooks] == ['EMAHook']  # evaluations' weights
    for arm, records in runs.items():
        assert [r['iter'] for r in records] == [6, 12], arm
        assert records[-1]['images'] == 12 * batch  # counted from the real batches
        # No evaluation at the cap (8): the stage ends there, as configured, not at the
        # next evaluation, and the run ends as configured.
        chosen = json.load(open(osp.join(out, 'work_dirs', arm, 'schedule.json')))
        assert (chosen['stage_end'], chosen['milestones'], chosen['max_iters']) == (
            8,
            [8, 11],
            12,
        ), chosen
        assert chosen['reason'] == 'the cap of 8 iterations reached (not judged)'
    results = open(osp.join(out, 'results.md')).read()
    for arm, records in runs.items():
        row = next(line for line in results.splitlines() if line.startswith(f'| {arm} |'))
        shown = row.split('|')[3].strip()
        assert shown == _shown_ap(records), row
    samples = open(osp.join(out, 'samples.md')).read()
    assert f'| scratch_scarce | images | 0 | {12 * batch:.3g} |' in samples
    pretrain_images = 8 * 32  # smoke pre-training: 8 iterations at batch 32
    assert f'| pretrained_scarce | images | {pretrain_images:.3g} |' in samples
    summary = open(osp.join(out, 'summary.md')).read()
    for claim in ('1. Early convergence: ', '2. Catch-up with plentiful data: ', '3. Breakdown'):
        assert claim in summary and claim in stdout
    # Twelve iterations converge by no rule: claims 2 and 3 are undecided, never yes or no.
    assert '2. Catch-up with plentiful data: undecided: final box AP' in summary
    assert '3. Breakdown with scarce data: undecided: final box AP' in summary
    # Each undecided answer names the arm it rests on: pretrained while scratch ended
    # within the 1-point margin or above, scratch while it ended below.
    for claim in ('2. Catch-up with plentiful data: ', '3. Breakdown with scarce data: '):
        line = next(line for line in summary.splitlines() if line.startswith(claim))
        gap = float(re.search(r', gap ([+-]\d+\.\d)', line).group(1))
        deciding = 'pretrained' if gap <= TOLERANCE else 'scratch'
        assert f'but not converged: {deciding} (not judged: ' in line, line
    # How long each arm trained: stopped at the cap, 8 iterations of batch 4 at the full LR.
    assert summary.count(f'the full-LR stage ended at iteration 8 ({8 * batch} images seen)') == 4
    # The figure: four labelled curves (arm x pair) in each of the box and mask panels.
    svg = open(osp.join(out, 'curves.svg')).read()
    for arm in ('scratch', 'pretrained'):
        for pair in ('plentiful', 'scarce'):
            assert svg.count(f'{arm}, {pair}: not judged') == 2, (arm, pair)


@pytest.mark.slow
@pytest.mark.xdist_group('demo_smoke')
def test_plot_curves_cli_draws_labelled_lines(demo, tmp_path):
    out, _ = demo
    stem = str(tmp_path / 'fig')
    arms = [osp.join(out, 'work_dirs', a) for a in ('scratch_plentiful', 'pretrained_plentiful')]
    run([sys.executable, osp.join(TOOLS, 'plot_curves.py'), *arms, '--out', stem, '--x', 'images'])
    svg = open(stem + '.svg').read()
    assert 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes' in svg  # named from the config
    assert 'mask-rcnn_r18-mini-pretrained_fpn_gn-all_shapes' in svg
    assert 'images seen' in svg and osp.getsize(stem + '.png') > 10_000
    bad = run([sys.executable, osp.join(TOOLS, 'plot_curves.py'), str(tmp_path)], check=False)
    assert bad.returncode != 0 and 'convergence.jsonl not found' in bad.stderr


@pytest.mark.slow
@pytest.mark.xdist_group('demo_smoke')
def test_results_table_cli_matches_logs(demo):
    out, _ = demo
    work_dir = osp.join(out, 'work_dirs', 'scratch_plentiful')
    proc = run([sys.executable, osp.join(TOOLS, 'results_table.py'), work_dir])
    last = read_convergence(osp.join(work_dir, 'convergence.jsonl'))[-1]
    row = next(line for line in proc.stdout.splitlines() if 'mini-scratch' in line)
    cells = [c.strip() for c in row.split('|')[1:-1]]
    assert cells[1] == str(last['iter'])
    assert cells[2] == _shown_ap(read_convergence(osp.join(work_dir, 'convergence.jsonl')))


def test_results_table_against_reference(tmp_path):
    from mmrethink.analysis.results import results_table
    from mmrethink.analysis.runs import Run

    run_ = Run(
        'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco',
        [dict(iter=540000, **{'coco/bbox_mAP': 0.405, 'coco/segm_mAP': 0.361})],
    )
    table = results_table([run_])
    assert '| 40.5 | 36.1 | 41.3 | 36.6 | -0.8 | -0.5 |' in table
    assert '41.2 | 37.4' in results_table([run_], source='mmdet')


@pytest.mark.slow
def test_count_samples_cli_from_real_statistics(shapes, tmp_path):
    config = osp.join(REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
    pretrained = config.replace('scratch', 'pretrained').replace('6x', '2x')
    ann = osp.join(shapes, 'annotations', 'instances_train.json')
    proc = run(
        [
            sys.executable,
            osp.join(TOOLS, 'count_samples.py'),
            pretrained,
            config,
            '--ann-file',
            ann,
            '--out',
            str(tmp_path / 's'),
        ]
    )
    coco = json.load(open(ann))
    with_objects = {a['image_id'] for a in coco['annotations']}
    per_image = len(coco['annotations']) / len(with_objects)
    scratch_images = 540000 * 16
    row = re.search(
        r'\| mask-rcnn_r50-scratch_fpn_gn-all_6x_coco \| instances \| 0 \| '
        r'([\d.e+]+) \|',
        proc.stdout,
    )
    assert float(row[1]) == pytest.approx(scratch_images * per_image, rel=1e-2)
    assert (
        f'| mask-rcnn_r50-pretrained_fpn_gn-all_2x_coco | images | {1.28e8:.3g} | '
        f'{180000 * 16:.3g} |' in proc.stdout
    )
    assert osp.isfile(str(tmp_path / 's.png'))


@pytest.mark.stack
@pytest.mark.slow
def test_benchmark_reports_each_config_and_ratios(tmp_path):
    """Runs (untimed) and reports what it claims; the figures themselves are in docs/train.md."""
    out = str(tmp_path / 'bench.json')
    stream = tmp_path / 'demo_arm.py'  # as tools/demo.py writes its arms: images rendered
    stream.write_text(
        f'_base_ = {SCRATCH!r}\n'
        "train_dataloader = dict(dataset=dict(_delete_=True, type='SyntheticShapesStream', "
        'num_images=16, pipeline={{_base_.stream_train_pipeline}}))\n'
    )
    proc = run(
        [
            sys.executable,
            osp.join(TOOLS, 'benchmark_train.py'),
            SCRATCH,
            'mmdet::scratch/mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py',
            str(stream),
            '--shrink',
            '--iters',
            '2',
            '--warmup',
            '1',
            '--synthetic',
            '8',
            '--json',
            out,
        ]
    )
    report = json.load(open(out))
    names = [row['config'] for row in report['rows']]
    assert names == [
        'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes',
        'mmdet::mask-rcnn_r50-scratch_fpn_gn-all_6x_coco',
        'demo_arm',
    ]
    assert report['rows'][2]['dataset']['images'] == 16  # the stream, not the generated files
    assert report['matmul_peak_gflops'] > 1
    for row in report['rows']:
        assert row['s_per_iter'] > 0 and 0 <= row['data_share'] < 1 and row['peak_mem_mb'] > 100
        assert row['gflop_per_iter'] > 0 and 0 < row['peak_share'] < 1, row
    # The toy-width R50 does more work per iteration than the 8-channel R18 at 128 px.
    assert report['rows'][1]['gflop_per_iter'] > report['rows'][0]['gflop_per_iter']
    assert 'ratio_to_first' in report['rows'][1] and 'ratio_to_first' not in report['rows'][0]
    assert '| mmdet::mask-rcnn_r50-scratch_fpn_gn-all_6x_coco |' in proc.stdout


def _as_dict(options):
    """``--cfg-options`` strings parsed as tools/train.py parses them."""
    import argparse

    from mmengine.config import DictAction

    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def test_runner_stepping_trains_one_iteration(shapes, tmp_path):
    """The benchmark's set-up, as Runner.train() does it (the mmengine privates it needs
    are checked in tests/test_private_api.py)."""
    from mmengine.runner import Runner

    from helpers import mini_options
    from mmrethink.diagnostics.runner_stepping import start_training

    cfg = Config.fromfile(SCRATCH)
    cfg.merge_from_dict(_as_dict(mini_options(shapes)))
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    loop = start_training(runner)
    loop.run_iter(next(iter(loop.dataloader)))
    assert runner.iter == 1


def test_scalars_reader_returns_each_complete_record_once(tmp_path):
    from mmrethink.utils.scalars import ScalarsReader

    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    path = vis / 'scalars.json'
    reader = ScalarsReader(str(tmp_path))
    assert reader.new_records() == []
    path.write_text('{"iter": 10, "lr": 0.02, "loss": 1.5}\n{"coco/bbox_m')
    assert reader.new_records() == [dict(iter=10, lr=0.02, loss=1.5)]
    with open(path, 'a') as f:
        f.write('AP": 0.25, "step": 30}\n')
    assert reader.new_records() == [{'coco/bbox_mAP': 0.25, 'step': 30}]
    assert reader.new_records() == []


def test_scalars_helper_reads_every_session_through_the_package_reader(tmp_path):
    """helpers.scalars (what the resume tests compare) is ScalarsReader's reading: a
    killed session and its resumed one, in order, training records only."""
    from helpers import scalars

    for session, records in (
        ('20260101_000000', [dict(iter=1, loss=2.0), {'coco/bbox_mAP': 0.1, 'step': 1}]),
        ('20260101_010000', [dict(iter=2, loss=1.5)]),
    ):
        vis = tmp_path / session / 'vis_data'
        vis.mkdir(parents=True)
        (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    assert scalars(str(tmp_path)) == [dict(iter=1, loss=2.0), dict(iter=2, loss=1.5)]


def test_demo_progress_lines_come_from_scalars():
    from mmrethink.pairing.progress import progress_line

    assert progress_line('scratch', dict(iter=60, lr=0.02, loss=1.23456), 540) == (
        '  [scratch] iter 60/540  lr 0.02  loss 1.2346'
    )
    assert progress_line('scratch', dict(iter=50, lr=0.02, loss=1.2), 540) is None
    assert progress_line('scratch', {'coco/bbox_mAP': 0.123, 'step': 30}, 540) == (
        '  [scratch] iter 30/540 eval: box AP 12.3'  # a box-only model: no mask AP
    )
    record = {'coco/bbox_mAP': 0.123, 'coco/segm_mAP': -1.0, 'step': 30}  # COCO's "nothing"
    assert progress_line('scratch', record, 540) == (
        '  [scratch] iter 30/540 eval: box AP 12.3  mask AP 0.0'
    )
    assert progress_line('pre-train', {'cls/top1': 52.5, 'step': 600}, 600) == (
        '  [pre-train] eval: top-1 52.5%'
    )
    assert progress_line('scratch', dict(data_time=0.1, step=3), 540) is None
