"""Issue: "train until converged": the full-LR stage lasts until the convergence rule
holds (at most the schedule's cap), then the paper's tail, through the real launchers."""

import json
import os.path as osp
import sys

import pytest
import torch

from helpers import (
    DIST_TRAIN,
    REPO,
    checkpoint_iter,
    kill_after_first_checkpoint,
    run,
    scalars,
)
from mmrethink.diagnostics.trial import family_config_path, trial_config, write_trial_config
from mmrethink.engine.hooks.until_converged_hook import SCHEDULE_FILE, stage_end_reason


def test_the_stage_goes_on_while_the_curve_rises_and_ends_once_it_is_flat():
    """Evaluations every 10 iterations: +2 AP each up to 80, then flat."""
    curve = [(10 * (i + 1), ap) for i, ap in enumerate([5, 10, 14, 17, 20, 22, 24, 26])]
    curve += [(90, 27.0), (100, 27.0), (110, 27.2), (120, 26.9)]
    decisions = {t: stage_end_reason([p for p in curve if p[0] <= t], t, 1000) for t, _ in curve}
    # at 100 the line through 80, 90, 100 (26, 27, 27) still rises 1.25 across 75-100;
    # at 110 through 27, 27, 27.2: 0.01 per iteration x 28 = +0.3, its error 0.16
    assert all(decisions[t] is None for t in range(10, 101, 10))
    assert decisions[110] == 'converged (+0.3 ± 0.2 AP over 82-110)'


def test_only_the_last_quarter_of_the_stage_so_far_counts():
    """A climb before the window does not hold the stage; a line rising by a point
    across the window does (evaluations every 5 iterations)."""
    climb_then_flat = [(i, 0.0 if i <= 20 else 30 + 0.2 * (i % 10 == 0)) for i in range(10, 65, 5)]
    assert stage_end_reason(climb_then_flat, 60, cap=1000).startswith('converged (')
    slow_rise = [(i, 30 + 0.06 * i) for i in range(10, 65, 5)]  # +0.9 over 45-60
    assert stage_end_reason(slow_rise, 60, cap=1000).startswith('converged (+0.9 ± 0.0 AP')
    steeper = [(i, 30 + 0.08 * i) for i in range(10, 65, 5)]  # +1.2 over 45-60
    assert stage_end_reason(steeper, 60, cap=1000) is None


def test_the_cap_ends_a_stage_that_never_converges():
    rising = [(i, i / 2) for i in range(5, 65, 5)]  # +7.5 over 45-60
    assert stage_end_reason(rising, 55, cap=60) is None
    assert stage_end_reason(rising, 60, cap=60) == (
        'the cap of 60 iterations reached (still rising (+7.5 AP))'
    )
    assert stage_end_reason(rising[:1], 5, cap=5) == 'the cap of 5 iterations reached (not judged)'


def _runner_at_the_cap(tmp_path, val_interval: int, validates: bool = True):
    """A runner that has just trained iteration 8, the cap (drops at 8 and 11, end 12)."""
    from types import SimpleNamespace

    from mmrethink.engine.schedulers import WarmupMultiStepLR

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = WarmupMultiStepLR(optimizer, [8, 11], warmup_iters=0)
    loop = SimpleNamespace(val_interval=val_interval, val_begin=1, _max_iters=12)
    return SimpleNamespace(
        iter=7,  # after_train_iter of iteration 8
        max_iters=12,
        train_loop=loop,
        val_loop=object() if validates else None,
        param_schedulers=[scheduler],
        work_dir=str(tmp_path),
    )


@pytest.mark.parametrize(
    'val_interval, validates, decides',
    [(6, True, True), (4, True, False), (4, False, True)],
    ids=['no evaluation at the cap', 'an evaluation at the cap', 'no validation at all'],
)
def test_a_cap_between_evaluations_ends_the_stage_there(tmp_path, val_interval, validates, decides):
    """Where no evaluation falls at the cap, the stage ends at the cap itself, with the
    configured drops, not at a later evaluation; an evaluation at the cap decides."""
    from mmrethink.engine.hooks.until_converged_hook import UntilConvergedHook

    hook = UntilConvergedHook()
    runner = _runner_at_the_cap(tmp_path, val_interval, validates)
    hook.before_run(runner)
    hook.points = [(6, 10.0)]
    runner.iter = 6  # iteration 7: before the cap, never
    hook.after_train_iter(runner, 0)
    assert hook.decision is None
    runner.iter = 7
    hook.after_train_iter(runner, 0)
    if not decides:
        assert hook.decision is None and not osp.exists(osp.join(str(tmp_path), SCHEDULE_FILE))
        return
    assert hook.decision == dict(stage_end=8, reason='the cap of 8 iterations reached (not judged)')
    assert _schedule(str(tmp_path)) == dict(hook.decision, milestones=[8, 11], max_iters=12, cap=8)
    assert runner.param_schedulers[0].milestones == [8, 11] and runner.train_loop._max_iters == 12


def test_the_schedule_base_caps_at_9x_and_keeps_its_tail():
    """configs/_base_/schedules/rethinking_until-converged.py: 9x (810k iterations at
    batch 16, drops at 750k and 790k: RECIPE.md) as the cap, so 40k at LR/10 and 20k at
    LR/100 after wherever the full-LR stage ends."""
    from mmengine.config import Config

    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'schedules', 'rethinking_until-converged.py')
    )
    assert cfg.default_hooks.until_converged == dict(type='UntilConvergedHook')
    assert cfg.train_cfg.max_iters == 810_000
    assert cfg.param_scheduler.milestones == [750_000, 790_000]


# The trial's schedule: at most 10 iterations at the full LR, then 4 and 4. Evaluating
# every iteration, the rule can first hold at 6 (4, 5, 6 in 4-6): a run ends at 14 or later.
CAP, TAIL = 10, (4, 4)


def _config(trial_data, tmp_path) -> str:
    config = family_config_path('mask-gn-scratch')
    cfg = trial_config(config, trial_data, iters=CAP + sum(TAIL), checkpoint_interval=2)
    cfg.train_cfg.val_interval = 1
    cfg.randomness = dict(seed=7, deterministic=True)  # runs to compare are the same run
    cfg.param_scheduler.milestones = [CAP, CAP + TAIL[0]]
    cfg.default_hooks.until_converged = dict(type='UntilConvergedHook')
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    return write_trial_config(cfg, config, str(tmp_path / 'configs'))


def _schedule(work_dir: str) -> dict:
    with open(osp.join(work_dir, SCHEDULE_FILE)) as f:
        return json.load(f)


def _lrs(work_dir: str) -> dict:
    return {r['iter']: r['lr'] for r in scalars(work_dir)}


@pytest.mark.slow
def test_until_converged_under_dist_train_survives_sigkill_and_resume(trial_data, tmp_path):
    """`tools/dist_train.sh CFG 2`, uninterrupted and SIGKILLed after its first
    checkpoint then resumed: the same stage end, LR at every iteration and end."""
    path = _config(trial_data, tmp_path)
    whole, killed = str(tmp_path / 'whole'), str(tmp_path / 'killed')
    out = run([DIST_TRAIN, path, '2', '--work-dir', whole])
    chosen = _schedule(whole)
    end = chosen['stage_end']
    assert end <= CAP and chosen['milestones'] == [end, end + TAIL[0]]
    assert chosen['max_iters'] == end + sum(TAIL)
    assert f'UntilConvergedHook: full-LR stage ended at iteration {end}: ' in out.stdout
    assert max(_lrs(whole)) == end + sum(TAIL)  # the run ended after the tail
    lrs = _lrs(whole)
    assert lrs[end + 1] == pytest.approx(lrs[end] / 10)
    assert lrs[end + TAIL[0] + 1] == pytest.approx(lrs[end] / 100)
    cmd = [DIST_TRAIN, path, '2', '--work-dir', killed]
    checkpoint = kill_after_first_checkpoint(cmd, killed)
    assert checkpoint_iter(checkpoint) < end
    run(cmd + ['--resume'])
    assert _schedule(killed) == chosen
    assert _lrs(killed) == pytest.approx(lrs)


@pytest.mark.slow
def test_a_run_resumed_after_its_stage_ended_keeps_the_chosen_schedule(trial_data, tmp_path):
    """`tools/train.py`: SIGKILLed after the checkpoint that follows the decision,
    resumed with --resume: it ends where the decision said, not at the cap."""
    path = _config(trial_data, tmp_path)
    work_dir = str(tmp_path / 'work')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), path, '--work-dir', work_dir]
    checkpoint = kill_after_first_checkpoint(cmd, work_dir, after_iter=CAP + 2)
    chosen = _schedule(work_dir)  # decided at 10 at the latest
    assert checkpoint_iter(checkpoint) < chosen['max_iters'] == chosen['stage_end'] + sum(TAIL)
    out = run(cmd + ['--resume'])
    assert 'UntilConvergedHook: continuing the schedule chosen at iteration' in out.stdout
    assert not osp.exists(osp.join(work_dir, f'iter_{chosen["max_iters"] + 1}.pth'))
    final = torch.load(osp.join(work_dir, f'iter_{chosen["max_iters"]}.pth'), map_location='cpu')
    assert final['meta']['iter'] == chosen['max_iters']
    assert _schedule(work_dir) == chosen


@pytest.mark.slow
def test_pair_experiment_until_converged_reports_how_long_each_arm_trained(shapes, tmp_path):
    """`tools/pair_experiment.py --until-converged --run` on generated data: both
    configs carry the hook over a cap, and the report gives each arm's stage end, the
    images seen then, and the run's end, as the runs recorded them."""
    import glob

    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    from helpers import SCRATCH, load_config

    with DefaultScope.overwrite_default_scope('mmdet'):
        backbone = MODELS.build(load_config(SCRATCH).model).backbone
    checkpoint = str(tmp_path / 'backbone.pth')
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    torch.save({'state_dict': state}, checkpoint)
    out = str(tmp_path / 'pair')
    split = {s: (osp.join(shapes, 'annotations', f'instances_{s}.json'), osp.join(shapes, s))
             for s in ('train', 'val')}  # fmt: skip
    run(
        [sys.executable, osp.join(REPO, 'tools', 'pair_experiment.py'),
         '--train-ann', split['train'][0], '--train-images', split['train'][1],
         '--val-ann', split['val'][0], '--val-images', split['val'][1],
         '--out', out, '--gpus', '1', '--batch-per-gpu', '2',
         '--base', 'mmrethink::demo/mask-rcnn_r18-mini-{arm}_fpn_gn-all_shapes.py',
         '--checkpoint', checkpoint, '--checkpoint-prefix', 'backbone.',
         '--scratch-schedule', '0.2', '--pretrained-schedule', '0.2', '--until-converged',
         '--run', '--cfg-options', 'model.test_cfg.rcnn.score_thr=0.0',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']
    )  # fmt: skip
    summary = open(osp.join(out, 'report', 'summary.md')).read()
    assert '## How long each arm trained (--until-converged)' in summary
    for arm in ('scratch', 'pretrained'):
        [config] = glob.glob(osp.join(out, 'configs', f'*-{arm}_*.py'))
        assert load_config(config).default_hooks.until_converged.type == 'UntilConvergedHook'
        work_dir = osp.join(out, 'work_dirs', arm)
        chosen = _schedule(work_dir)
        with open(osp.join(work_dir, 'convergence.jsonl')) as f:
            records = {r['iter']: r for r in map(json.loads, f)}
        end, last = chosen['stage_end'], records[max(records)]
        # The stage ends at the cap at the latest, evaluated there or not (batch 2).
        assert end <= chosen['cap'] and last['iter'] == chosen['max_iters']
        assert (
            f'- {arm}: the full-LR stage ended at iteration {end} '
            f'({end * 2} images seen): {chosen["reason"]}; with the tail, '
            f'{last["iter"]} iterations ({last["images"]} images), of a cap of '
            f'{chosen["cap"]} at the full LR.'
        ) in summary
