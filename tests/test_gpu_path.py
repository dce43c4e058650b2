"""Issue: the GPU users' path, proven on the CPU path that runs the same code.

Resume on another number of processes, the checks before training run once, an
epoch-based loop, MMDetection's own CLI on a config inheriting the pack's, two nodes,
and refusals that read as refusals. Each runs the real launchers (tools/train.py,
tools/dist_train.sh, mmdet's tools/train.py, mim) on data the tests generate; gloo
runs the same process-group bookkeeping as NCCL.
"""

import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from helpers import (
    DIST_TRAIN,
    REPO,
    SCRATCH,
    checkout_env,
    convergence,
    installed_env,
    kill_after_first_checkpoint,
    mini_options,
    run,
    train_cmd,
)
from mmrethink.diagnostics.trial import family_config_path, trial_config, write_trial_config
from mmrethink.engine.resume_world_size import CHANGE_KEY, WorldSizeChanged
from mmrethink.launching.batch_scaling import scale_schedule_to_batch
from mmrethink.utils.refusal import REFUSED

ITERS = 8  # checkpoints every 2: the kill lands after one and before the end
TRACEBACK = 'Traceback (most recent call last)'


def _trial(trial_data: str, tmp_path, family: str = 'mask-gn-scratch', **kwargs) -> str:
    config = family_config_path(family)
    cfg = trial_config(
        config, trial_data, iters=ITERS, checkpoint_interval=2, checkpoint_dir=str(tmp_path)
    )
    cfg.merge_from_dict(kwargs)
    return write_trial_config(cfg, config, str(tmp_path / 'configs'))


def _train(path: str, work_dir: str) -> list:
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'), path, '--work-dir', work_dir]


@pytest.mark.slow
def test_resume_on_another_number_of_processes_is_refused_or_keeps_the_total_batch(
    trial_data, tmp_path
):
    """2 processes x 2 images, killed; resumed on 1 process: refused before loading,
    naming both; with --resume-other-world-size: 1 x 4 images, the same images per
    iteration, and the change logged."""
    path = _trial(trial_data, tmp_path)
    work_dir = str(tmp_path / 'work')
    killed = kill_after_first_checkpoint([DIST_TRAIN, path, '2', '--work-dir', work_dir], work_dir)
    killed_at = torch.load(killed, map_location='cpu')['meta']['iter']
    before = sorted(os.listdir(work_dir))

    refused = run(_train(path, work_dir) + ['--resume'], check=False)
    assert refused.returncode == REFUSED
    assert (
        f'--resume {killed}: that checkpoint was written by a run of 2 processes x 2 images '
        '= batch 4; this run has 1 processes.'
    ) in refused.stderr, refused.stderr[-3000:]
    assert 'pass --resume-other-world-size to keep the total batch 4' in refused.stderr
    assert TRACEBACK not in refused.stderr
    assert sorted(os.listdir(work_dir)) == before  # nothing loaded, written or removed

    kept = run(_train(path, work_dir) + ['--resume', '--resume-other-world-size'])
    out = kept.stdout + kept.stderr
    assert 'on 1 processes x 4 images: the total batch 4' in out
    assert f'resumed epoch: 0, iter: {killed_at}' in out.lower()
    final = torch.load(osp.join(work_dir, f'iter_{ITERS}.pth'), map_location='cpu')
    assert (final['meta']['world_size'], final['meta']['batch_per_process']) == (1, 4)
    [record] = [r for r in convergence(work_dir) if r['iter'] == ITERS]
    assert record['images'] == ITERS * 4  # the total batch of every iteration kept


def test_the_accepted_change_keeps_the_auto_scaled_schedule(tmp_path):
    """--auto-scale-schedule after --resume-other-world-size: the schedule of the
    checkpoint's run, not one rescaled to the new per-process batch."""
    checkpoint = str(tmp_path / 'iter_4.pth')
    torch.save(dict(meta=dict(iter=4, world_size=8, batch_per_process=2)), checkpoint)
    leaf = osp.join(REPO, 'configs', 'rethinking', 'mask-rcnn_r50-scratch_fpn_gn-all_6x_coco.py')
    original = Config.fromfile(leaf)
    scale_schedule_to_batch(original, 8)
    resumed = Config.fromfile(leaf)
    resumed.update(resume=True, load_from=checkpoint)
    from mmrethink.engine.resume_world_size import check_resume_world_size

    with pytest.raises(WorldSizeChanged, match='8 processes x 2 images = batch 16; this run has 4'):
        check_resume_world_size(resumed, str(tmp_path), 4, allow=False)
    with pytest.raises(WorldSizeChanged, match='cannot be split evenly over 3 processes'):
        check_resume_world_size(resumed, str(tmp_path), 3, allow=True)
    check_resume_world_size(resumed, str(tmp_path), 4, allow=True)
    assert resumed.train_dataloader.batch_size == 4
    assert resumed[CHANGE_KEY]['world_size'] == [8, 4]
    scale_schedule_to_batch(resumed, 4)
    assert resumed.train_cfg == original.train_cfg
    assert resumed.param_scheduler == original.param_scheduler
    assert resumed.optim_wrapper.optimizer.lr == original.optim_wrapper.optimizer.lr


@pytest.mark.slow
def test_a_refusal_under_dist_train_is_printed_once_by_rank_0(trial_data, tmp_path):
    """Rank 0 prints the message, rank 1 one line, no traceback of either."""
    path = _trial(trial_data, tmp_path)
    options = ['--cfg-options', 'train_dataloader.dataset.data_root=/nonexistent/coco/']
    proc = run([DIST_TRAIN, path, '2', '--work-dir', str(tmp_path / 'w')] + options, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    message = 'train_dataloader: data_root /nonexistent/coco/ does not exist.'
    assert out.count(message) == 1, out[-4000:]
    assert 'rank 1 refused too' in out
    assert out.count(TRACEBACK) <= 1  # torchrun's own report of a failed process, if any


@pytest.mark.slow
def test_refusals_print_the_message_alone_and_the_traceback_on_request(shapes, tmp_path):
    options = mini_options(shapes) + ['model.backbone.frozen_stages=1']
    refused = run(train_cmd(SCRATCH, str(tmp_path / 'w'), options), check=False)
    assert refused.returncode == REFUSED
    assert 'freezes more than the scratch arm may: set it to -1' in refused.stderr
    assert TRACEBACK not in refused.stderr and 'MMRETHINK_DEBUG=1' in refused.stderr
    debug = run(
        train_cmd(SCRATCH, str(tmp_path / 'w'), options),
        check=False,
        env=checkout_env(MMRETHINK_DEBUG='1'),
    )
    assert debug.returncode != 0 and TRACEBACK in debug.stderr
    assert 'ArmMisconfigured: scratch arm refused to start' in debug.stderr


@pytest.mark.slow
def test_an_epoch_based_loop_says_at_start_that_resume_is_not_exact(trial_data, tmp_path):
    """A user config switching to mmengine's EpochBasedTrainLoop (and a sampler whose
    epochs end): the run says at start-up that --resume will not repeat it."""
    path = _trial(
        trial_data,
        tmp_path,
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1, _delete_=True),
        train_dataloader=dict(sampler=dict(type='DefaultSampler', shuffle=True)),
    )
    work_dir = str(tmp_path / 'work')
    out = run(_train(path, work_dir))
    log = out.stdout + out.stderr
    assert 'RandomStateHook: EpochBasedTrainLoop is not iteration-based' in log, log[-3000:]


@pytest.mark.stack
def test_a_new_interpreter_knows_the_scope_without_importing_torch(tmp_path):
    """What the installed ``mmrethink-config-scope.pth`` does at interpreter start."""
    proc = run(
        [
            sys.executable,
            '-c',
            "import sys; print('torch' in sys.modules, 'mmengine' in sys.modules); "
            'from mmengine.config.utils import MODULE2PACKAGE; '
            "print(MODULE2PACKAGE.get('mmrethink'), 'mmrethink' in sys.modules)",
        ],
        cwd=str(tmp_path),
        env=installed_env(),
    )
    assert proc.stdout.split() == ['False', 'False', 'mmrethink', 'False']


@pytest.mark.stack
@pytest.mark.slow
def test_mmdets_own_train_and_mim_train_mmdet_run_a_user_config(shapes, tmp_path):
    """A user config outside the checkout inheriting ``mmrethink::``, launched by the
    tools/train.py MMDetection ships and by ``mim train mmdet``."""
    import mmdet

    user = tmp_path / 'my_scratch_arm.py'
    user.write_text(
        "_base_ = 'mmrethink::demo/mask-rcnn_r18-mini-scratch_fpn_gn-all_shapes.py'\n"
        'train_cfg = dict(max_iters=2, val_interval=2)\n'
    )
    options = ['--cfg-options', *mini_options(shapes, max_iters=2, val_interval=2)]
    mmdet_train = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')
    for name, cmd in (
        ('mmdet', [sys.executable, mmdet_train, str(user)]),
        ('mim', [sys.executable, '-m', 'mim', 'train', 'mmdet', str(user)]),
    ):
        work_dir = str(tmp_path / name)
        proc = run(cmd + ['--work-dir', work_dir] + options, cwd=str(tmp_path), env=installed_env())
        assert osp.isfile(osp.join(work_dir, 'iter_2.pth')), proc.stdout[-3000:]
        assert convergence(work_dir)[-1]['iter'] == 2  # the pack's hooks ran


def _two_nodes() -> list:
    """The environments of two nodes of one machine: one rendezvous address and port."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = str(s.getsockname()[1])
    return [
        dict(NNODES='2', NODE_RANK=str(rank), MASTER_ADDR='127.0.0.1', PORT=port) for rank in (0, 1)
    ]


@pytest.mark.slow
def test_two_nodes_train_are_killed_and_resume(trial_data, tmp_path):
    """Two launches of tools/dist_train.sh on this machine as two nodes of one process
    each (NNODES=2, NODE_RANK 0 and 1, one MASTER_ADDR and PORT), both SIGKILLed after
    a checkpoint and both started again with --resume."""
    path = _trial(trial_data, tmp_path)
    work_dir = str(tmp_path / 'work')
    cmd = ['bash', DIST_TRAIN, path, '1', '--work-dir', work_dir]
    killed = kill_after_first_checkpoint(cmd, work_dir, envs=_two_nodes())
    killed_at = torch.load(killed, map_location='cpu')['meta']['iter']
    assert killed_at < ITERS
    procs = [
        subprocess.Popen(
            cmd + ['--resume'],
            cwd=REPO,
            env=checkout_env(**node),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for node in _two_nodes()
    ]
    outs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs[0][-3000:] + outs[1][-3000:]
    assert f'resumed epoch: 0, iter: {killed_at}' in outs[0].lower()
    final = torch.load(osp.join(work_dir, f'iter_{ITERS}.pth'), map_location='cpu')
    assert (final['meta']['iter'], final['meta']['world_size']) == (ITERS, 2)
    [record] = [r for r in convergence(work_dir) if r['iter'] == ITERS]
    assert record['images'] == ITERS * 2 * 2  # both nodes, before and after the kill


STORE = '''
"""An object store for the test: ``store://KEY`` is the file STORE_ROOT/KEY."""
import os
import os.path as osp
from contextlib import contextmanager

from mmengine.fileio import LocalBackend, register_backend


@register_backend('directory_store', prefixes='store')
class DirectoryStore(LocalBackend):
    def _local(self, path):
        return osp.join(os.environ['STORE_ROOT'], str(path)[len('store://'):])

    def get(self, filepath):
        return super().get(self._local(filepath))

    def get_text(self, filepath, encoding='utf-8'):
        return super().get_text(self._local(filepath), encoding)

    def exists(self, filepath):
        with open(os.environ['STORE_LOG'], 'a') as log:
            log.write(f'exists {filepath}\\n')
        return super().exists(self._local(filepath))

    def isfile(self, filepath):
        return super().isfile(self._local(filepath))

    @contextmanager
    def get_local_path(self, filepath):
        yield self._local(filepath)
'''


@pytest.mark.slow
def test_the_checks_read_a_dataset_in_an_object_store_once(trial_data, tmp_path):
    """`tools/dist_train.sh CFG 2` with the training set read through mmengine's
    ``backend_args`` (a file backend the user registers, which logs what it is asked):
    the checks before training ask it for the annotation file once (rank 0; the other
    rank waits), do not list the images one by one and say so; the run trains. A
    missing annotation file in the store is refused by name."""
    (tmp_path / 'directory_store.py').write_text(STORE)
    config = family_config_path('mask-gn-scratch')
    cfg = trial_config(config, trial_data, iters=2, checkpoint_interval=2)
    backend_args = dict(backend='directory_store')
    dataset = cfg.train_dataloader.dataset
    dataset.update(data_root='store://coco/', backend_args=backend_args)
    for step in dataset.pipeline:
        if step['type'] == 'LoadImageFromFile':
            step['backend_args'] = backend_args
    cfg.custom_imports = dict(imports=['mmrethink', 'directory_store'])
    path = write_trial_config(cfg, config, str(tmp_path / 'configs'))
    store_log = tmp_path / 'store.log'
    env = checkout_env(
        STORE_ROOT=trial_data,
        STORE_LOG=str(store_log),
        PYTHONPATH=f'{REPO}{os.pathsep}{tmp_path}',
    )
    out = run([DIST_TRAIN, path, '2', '--work-dir', str(tmp_path / 'work')], env=env)
    log = out.stdout + out.stderr
    ann_file = 'store://coco/annotations/instances_train2017.json'
    assert (
        f"train_dataloader: {ann_file} read through backend_args={{'backend': "
        "'directory_store'}: its 16 images were not checked one by one"
    ) in log, log[-3000:]
    assert store_log.read_text().splitlines() == [f'exists {ann_file}']
    assert osp.isfile(str(tmp_path / 'work' / 'iter_2.pth'))
    dataset.ann_file = 'annotations/missing.json'
    path = write_trial_config(cfg, config, str(tmp_path / 'configs'))
    refused = run(_train(path, str(tmp_path / 'work2')), env=env, check=False)
    assert refused.returncode == REFUSED
    assert 'annotation file store://coco/missing.json not found through' not in refused.stderr
    assert 'annotation file store://coco/annotations/missing.json not found through' in (
        refused.stderr
    )
