"""Issue: every arm runs the way users run it: N processes, resume, requeue, Slurm.

These run the real launchers (tools/dist_train.sh, tools/train.py, tools/slurm_train.sh)
on data the tests generate, with real mmdet/mmengine/mmcv and pycocotools.
"""

import json
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from helpers import (
    DIST_TRAIN,
    PRETRAINED,
    REPO,
    SCRATCH,
    checkout_env,
    convergence,
    kill_after_first_checkpoint,
    metric_prefix,
    mini_options,
    run,
    train_cmd,
)
from mmrethink.diagnostics.acceptance import EMPTY_RANK_FAMILIES
from mmrethink.diagnostics.trial import (
    FAMILIES,
    family_config_path,
    trial_config,
    write_trial_config,
)
from mmrethink.utils.configs import as_list

ITERS = 8  # checkpoints every 2: the kill lands after one and before the end


# The families `make test-stack` also runs on the older torch: a GN scratch and a GN
# pretrained arm, Keypoint R-CNN and both VGG-16 arms (their load hook).
STACK_FAMILIES = {
    'mask-gn-scratch',
    'mask-gn-pretrained',
    'keypoint-gn-scratch',
    'vgg-scratch',
    'vgg-pretrained',
}


@pytest.mark.slow
@pytest.mark.parametrize(
    'family',
    [
        pytest.param(f, marks=pytest.mark.stack) if f in STACK_FAMILIES else f
        for f in sorted(FAMILIES)
    ],
)
def test_family_trains_evaluates_and_resumes_under_dist_train(family, trial_data, tmp_path):
    """`tools/dist_train.sh CFG 2`: trains, is SIGKILLed after its first checkpoint,
    resumes under 2 processes from it, and evaluates at the end; images of both ranks
    are counted across the kill."""
    config = family_config_path(family)
    cfg = trial_config(
        config, trial_data, iters=ITERS, checkpoint_interval=2, checkpoint_dir=str(tmp_path)
    )
    path = write_trial_config(cfg, config, str(tmp_path / 'configs'))
    work_dir = str(tmp_path / 'work')
    cmd = [DIST_TRAIN, path, '2', '--work-dir', work_dir]
    checkpoint = kill_after_first_checkpoint(cmd, work_dir)
    killed_at = torch.load(checkpoint, map_location='cpu')['meta']['iter']
    assert killed_at < ITERS and not osp.exists(osp.join(work_dir, f'iter_{ITERS}.pth'))
    proc = run(cmd + ['--resume'])
    out = proc.stdout + proc.stderr
    assert f'resumed epoch: 0, iter: {killed_at}' in out.lower()
    assert 'refused' not in out
    final = torch.load(osp.join(work_dir, f'iter_{ITERS}.pth'), map_location='cpu')
    assert final['meta']['iter'] == ITERS
    [record] = [r for r in convergence(work_dir) if r['iter'] == ITERS]
    prefix = metric_prefix(cfg)
    assert any(k.startswith(prefix + '/') for k in record), record
    batch = cfg.train_dataloader.batch_size
    assert record['images'] == ITERS * 2 * batch  # both ranks, before and after the kill


def _mini_backbone_file(path: str, **backbone) -> str:
    """The demo's backbone (``backbone`` overrides its settings) as a checkpoint in the
    demo classifier's layout (``backbone.`` prefix)."""
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    from helpers import load_config

    cfg = load_config(osp.join(REPO, 'configs', 'demo', DEMO_SCRATCH)).model.backbone
    cfg.update(backbone, init_cfg=None)
    with DefaultScope.overwrite_default_scope('mmdet'):
        state = MODELS.build(cfg).state_dict()
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in state.items()}), path)
    return path


DEMO_SCRATCH = 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py'


def _pretrained_options(shapes: str, checkpoint: str, **kwargs) -> list:
    return mini_options(shapes, **kwargs) + [f'model.backbone.init_cfg.checkpoint={checkpoint}']


@pytest.mark.slow
def test_resume_from_the_other_arms_checkpoint_is_refused_before_loading(shapes, tmp_path):
    checkpoint = _mini_backbone_file(str(tmp_path / 'backbone.pth'))
    pretrained_dir = str(tmp_path / 'pretrained')
    options = _pretrained_options(shapes, checkpoint, max_iters=2, val_interval=2)
    run(train_cmd(PRETRAINED, pretrained_dir, options))
    other = osp.join(pretrained_dir, 'iter_2.pth')
    proc = run(
        train_cmd(SCRATCH, str(tmp_path / 'scratch'), mini_options(shapes), '--resume', other),
        check=False,
    )
    assert proc.returncode != 0
    assert f'--resume {other}: that checkpoint was written by the pretrained arm' in proc.stderr, (
        proc.stderr[-3000:]
    )
    assert 'is the scratch arm' in proc.stderr
    assert 'parameter groups' not in proc.stderr  # refused before torch's optimizer saw it


@pytest.mark.slow
def test_requeue_on_a_fresh_work_dir_still_checks_the_backbone_checkpoint(shapes, tmp_path):
    """`--resume` with no checkpoint yet (how requeue scripts start every attempt)."""
    narrow = _mini_backbone_file(str(tmp_path / 'wide.pth'), base_channels=32)
    options = _pretrained_options(shapes, narrow, max_iters=2, val_interval=2)
    proc = run(train_cmd(PRETRAINED, str(tmp_path / 'w'), options, '--resume'), check=False)
    assert proc.returncode != 0
    assert 'pretrained arm refused to start' in proc.stderr and 'provides only' in proc.stderr


@pytest.mark.slow
def test_a_deeper_networks_checkpoint_is_refused_naming_both_depths(shapes, tmp_path):
    deeper = _mini_backbone_file(str(tmp_path / 'r34.pth'), depth=34)
    options = _pretrained_options(shapes, deeper, max_iters=2, val_interval=2)
    proc = run(train_cmd(PRETRAINED, str(tmp_path / 'w'), options), check=False)
    assert proc.returncode != 0
    assert 'is of ResNet-34, the backbone is ResNet-18' in proc.stderr, proc.stderr[-3000:]


def test_launch_scripts_find_the_checkouts_environment(tmp_path):
    """After `make demo`, `tools/dist_train.sh ...` works without activating .venv."""
    if not osp.isfile(osp.join(REPO, '.venv', 'bin', 'python')):
        pytest.skip('no .venv in this checkout (installed another way)')
    env = {
        k: v for k, v in os.environ.items() if k not in ('VIRTUAL_ENV', 'CONDA_PREFIX', 'PYTHON')
    }
    env['PATH'] = '/usr/bin:/bin'  # no python with torch on it
    proc = subprocess.run(
        [DIST_TRAIN, SCRATCH, '1', '--help'],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '--auto-scale-schedule' in proc.stdout


JOB_TREE = textwrap.dedent('''
    """A job that starts a child of its own (as a loader worker) and writes both pids."""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
    with open(sys.argv[1], 'w') as f:
        f.write(f'{child.pid} ' + str(__import__('os').getpid()))
    time.sleep(600)
''')
DRIVER = textwrap.dedent("""
    import sys
    from mmrethink.launching.parallel_runs import Job, run_jobs
    tmp = sys.argv[1]
    jobs = [Job(name=f'arm{i}', cmd=[sys.executable, f'{tmp}/job.py', f'{tmp}/pids{i}'],
                work_dir=f'{tmp}/w{i}', log=f'{tmp}/log{i}', max_iters=1) for i in range(2)]
    run_jobs(jobs, lambda job, record: None, threads=1, poll_s=0.1)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(')')[-1].split()[0] != 'Z'  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not osp.isdir('/proc'), reason='reads process states from /proc')
def test_sigterm_to_the_demo_stops_both_arms_and_their_children(tmp_path):
    (tmp_path / 'job.py').write_text(JOB_TREE)
    (tmp_path / 'driver.py').write_text(DRIVER)
    driver = subprocess.Popen(
        [sys.executable, str(tmp_path / 'driver.py'), str(tmp_path)], env=checkout_env()
    )
    pid_files = [tmp_path / f'pids{i}' for i in range(2)]
    deadline = time.time() + 60
    while not all(p.exists() and p.read_text() for p in pid_files):
        assert time.time() < deadline and driver.poll() is None
        time.sleep(0.1)
    pids = [int(pid) for p in pid_files for pid in p.read_text().split()]
    assert all(map(_alive, pids))
    driver.send_signal(signal.SIGTERM)
    driver.wait(timeout=30)
    deadline = time.time() + 15
    while any(map(_alive, pids)) and time.time() < deadline:
        time.sleep(0.1)
    left = [pid for pid in pids if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f'processes left running after SIGTERM: {left}'


def test_jobs_with_one_name_are_refused(tmp_path):
    from mmrethink.launching.parallel_runs import Job, run_jobs

    job = Job('arm', ['true'], str(tmp_path), str(tmp_path / 'log'), 1)
    with pytest.raises(ValueError, match='job names must be unique'):
        run_jobs([job, job], lambda job, record: None, threads=1)


def test_cores_where_the_os_has_no_affinity_call(monkeypatch):
    from mmrethink.launching import parallel_runs

    monkeypatch.delattr(os, 'sched_getaffinity')
    assert parallel_runs.cores() == os.cpu_count()


def _scaled_lrs(cfg, world_size: int, iters: list) -> dict:
    """LR at each iteration of ``iters`` of ``cfg``'s real schedulers, after scaling to
    ``world_size`` processes (``world_size=None``: as written)."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS, DefaultScope

    from mmrethink.launching.batch_scaling import scale_schedule_to_batch

    if world_size is not None:
        scale_schedule_to_batch(cfg, world_size)
    model = torch.nn.Linear(1, 1)
    with DefaultScope.overwrite_default_scope('mmdet'):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        schedulers = cfg.param_scheduler
        schedulers = [
            PARAM_SCHEDULERS.build(
                dict(
                    s,
                    optimizer=wrapper,
                    **({} if 'end' in s else dict(end=cfg.train_cfg.max_iters)),
                )
            )
            for s in as_list(schedulers)
        ]
    lrs = {}
    for it in range(max(iters) + 1):
        if it in iters:
            lrs[it] = wrapper.optimizer.param_groups[0]['lr']
        wrapper.optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs, cfg


@pytest.mark.parametrize(
    'schedulers',
    [
        'pack',  # the pack's WarmupMultiStepLR
        'mmdet',  # mmdet's LinearLR + MultiStepLR pair, both from iteration 0
    ],
)
def test_auto_scale_schedule_keeps_the_lr_per_image_at_every_point(schedulers):
    """At 4x the batch, iteration k/4 runs at 4x the LR of iteration k at batch 16:
    iteration 0 (no full LR before warm-up), the end of the warm-up, each drop."""
    from helpers import load_config

    def config():
        cfg = load_config(
            osp.join(REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_gn-all_2x_coco.py')
        )
        cfg.train_cfg.max_iters = 1600
        cfg.train_dataloader.batch_size = 2
        if schedulers == 'pack':
            cfg.param_scheduler.update(warmup_iters=200, milestones=[1200, 1440])
        else:
            cfg.param_scheduler = [
                dict(type='LinearLR', start_factor=1 / 3, by_epoch=False, begin=0, end=200),
                dict(
                    type='MultiStepLR',
                    by_epoch=False,
                    begin=0,
                    end=1600,
                    milestones=[1200, 1440],
                    gamma=0.1,
                ),
            ]
        return cfg

    points = [0, 200, 1199, 1200, 1439, 1440, 1599]
    if schedulers == 'pack':  # closed form: the warm-up is linear in images seen too
        points.append(100)
    base, _ = _scaled_lrs(config(), None, points)  # 8 processes x 2 = batch 16: as written
    scaled, cfg = _scaled_lrs(config(), 32, [p // 4 for p in points])  # batch 64
    assert cfg.train_cfg.max_iters == 400
    for point in points:
        assert scaled[point // 4] == pytest.approx(4 * base[point]), point
    assert base[0] == pytest.approx(0.02 / 3)  # warm-up starts at iteration 0


def test_auto_scale_schedule_scales_evaluation_points():
    from helpers import load_config
    from mmrethink.launching.batch_scaling import scale_schedule_to_batch

    cfg = load_config(
        osp.join(REPO, 'configs', 'demo', 'mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py')
    )
    cfg.train_cfg.update(max_iters=540, val_begin=60, dynamic_intervals=[(90, 120), (500, 40)])
    cfg.param_scheduler.warmup_iters = 0
    scale_schedule_to_batch(cfg, 2)  # batch 4 -> 8 with the demo's base batch
    base = cfg.auto_scale_schedule.base_batch_size
    ratio = base / 8
    assert cfg.train_cfg.max_iters == round(540 * ratio)
    assert cfg.train_cfg.dynamic_intervals == [
        (round(90 * ratio), round(120 * ratio)),
        (round(500 * ratio), round(40 * ratio)),
    ]
    assert cfg.train_cfg.val_begin == round(60 * ratio)
    assert cfg.param_scheduler.warmup_iters == 0  # no warm-up stays none


@pytest.mark.slow
def test_benchmark_reads_the_configs_own_dataset_from_data_root(trial_data, tmp_path):
    """`--data-root data/coco` times the config on that root's train2017 with its 80
    classes (the memory process checks it read the same set)."""
    out = str(tmp_path / 'bench.json')
    config = osp.join(REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_gn-all_1x_coco.py')
    run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'benchmark_train.py'),
            config,
            '--shrink',
            '--iters',
            '2',
            '--warmup',
            '1',
            '--data-root',
            osp.join(trial_data, 'coco'),
            '--json',
            out,
        ]
    )
    [row] = json.load(open(out))['rows']
    assert row['dataset']['ann_file'].endswith('annotations/instances_train2017.json')
    assert row['dataset']['classes'] == 80
    assert row['dataset']['images'] == 16
    assert row['peak_mem_mb'] > 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(('', 0))
        return s.getsockname()[1]


SLURM_REQUIRED = os.environ.get('MMRETHINK_REQUIRE_SLURM') == '1'


@pytest.mark.slow
@pytest.mark.skipif(
    not SLURM_REQUIRED and subprocess.run(['which', 'srun'], capture_output=True).returncode,
    reason='no Slurm here: `bash tests/slurm/start_slurm.sh` (root) starts a one-node one',
)
def test_slurm_train_runs_two_tasks_that_train_and_evaluate(trial_data, tmp_path):
    """`tools/slurm_train.sh` on a real one-node Slurm (tests/slurm/start_slurm.sh), a
    pretrained arm started with --resume on a fresh work dir (how requeued jobs start)."""
    config = family_config_path('mask-syncbn-pretrained')
    cfg = trial_config(config, trial_data, iters=4, checkpoint_dir=str(tmp_path))
    path = write_trial_config(cfg, config, str(tmp_path / 'configs'))
    work_dir = str(tmp_path / 'work')
    env = checkout_env(
        GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1', GRES='', MASTER_PORT=str(_free_port())
    )
    proc = run(
        [osp.join(REPO, 'tools', 'slurm_train.sh'), 'debug', 'mmrethink-test', path, work_dir,
         '--resume'],
        env=env,
        timeout=600,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert 'ArmGuardHook: the checkpoint provided 100.0%' in out  # nothing was resumed
    [record] = [r for r in convergence(work_dir) if r['iter'] == 4]
    assert record['images'] == 4 * 2 * cfg.train_dataloader.batch_size  # both tasks
    assert 'coco/bbox_mAP' in record and 'coco/segm_mAP' in record


@pytest.mark.slow
def test_check_gpu_cpu_mode_runs_each_family_and_a_process_without_rois(tmp_path):
    """check_gpu.py's CPU mode. Its runs without RoIs on one process check the heads,
    DDP and the data with SyncBN run as BN (torch's SyncBN has no CPU kernel); SyncBN
    itself with an empty batch is checked by the same tool's GPU mode."""
    out = str(tmp_path / 'check')
    families = ['faster-gn-scratch', 'mask-syncbn-pretrained']
    proc = run(
        [sys.executable, osp.join(REPO, 'tools', 'check_gpu.py'), '--families', *families,
         '--iters', '6', '--work-dir', out, '--json', osp.join(out, 'rows.json')]
    )  # fmt: skip
    assert 'No GPU found: CPU mode' in proc.stdout
    rows = json.load(open(osp.join(out, 'rows.json')))['rows']
    assert sorted(row['name'] for row in rows) == [
        'faster-gn-scratch_x1',
        'faster-gn-scratch_x2',
        'mask-syncbn-pretrained_x1',
        'mask-syncbn-pretrained_x2',
        'mask-syncbn-pretrained_x2_empty-rank',
    ]
    assert all(row['ok'] and row['iterations'] == 6 and row['s_per_iter'] > 0 for row in rows)
    [record] = convergence(osp.join(out, 'mask-syncbn-pretrained_x2_empty-rank', 'work'))
    _assert_rank1_had_no_objects(record, osp.join(out, 'data'), iters=6, batch=2)


def _assert_rank1_had_no_objects(
    record: dict, data_root: str, iters: int, batch: int, cropped: bool = False
) -> None:
    """Rank 0 drew images 0, 2, 4, ... in order, rank 1 the odd ones, which hold no
    object: every instance counted came from rank 0 (all of its images' objects; with
    LSJ's crops at most those), and both ranks' images counted."""
    with open(osp.join(data_root, 'coco', 'annotations', 'instances_train2017.json')) as f:
        coco = json.load(f)
    per_image = [
        sum(a['image_id'] == im['id'] for a in coco['annotations']) for im in coco['images']
    ]
    rank0 = sum(per_image[i % len(per_image)] for i in range(0, 2 * iters * batch, 2))
    assert record['images'] == 2 * iters * batch
    if cropped:
        assert 0 < record['instances'] <= rank0
    else:
        assert record['instances'] == rank0


@pytest.mark.slow
@pytest.mark.parametrize('family', EMPTY_RANK_FAMILIES)
def test_a_process_without_rois_trains_under_dist_train(family, trial_data, tmp_path):
    """Rank 1's batches without objects. On CPU the launcher runs SyncBN as BN, so this
    covers the heads, DDP and the loss with no RoIs on one process, not SyncBN's own
    empty-batch path: tools/check_gpu.py runs that on GPUs."""
    config = family_config_path(family)
    cfg = trial_config(config, trial_data, iters=4, checkpoint_dir=str(tmp_path), empty_rank=True)
    path = write_trial_config(cfg, config, str(tmp_path / 'configs'))
    work_dir = str(tmp_path / 'work')
    run([DIST_TRAIN, path, '2', '--work-dir', work_dir])
    [record] = [r for r in convergence(work_dir) if r['iter'] == 4]
    _assert_rank1_had_no_objects(record, trial_data, iters=4, batch=2, cropped='lsj' in family)
