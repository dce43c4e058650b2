"""Issue 39: the pack runs on the stack MMDetection users have (torch 2.1 with OpenMMLab's
mmcv 2.1.0) as on today's torch; `make test-stack TORCH=2.1.2` runs the tests marked
``stack`` (these and the users' paths marked elsewhere) in that second environment.

Every torch difference is handled in ``mmrethink/compat`` by what torch does, so these
tests assert the same behaviour on both: a fresh interpreter imports the package, an
mmengine checkpoint loads with torch's own defaults (weights only where torch defaults
to it, with the allowlist registered exactly there), and a checkpoint written on one
torch resumes on the other.
"""

import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch

from helpers import (
    SCRATCH,
    checkout_env,
    checkpoint_iter,
    installed_env,
    kill_after_first_checkpoint,
    mini_options,
    run,
    train_cmd,
)

# Set by `make test-stack`: the interpreter of the other environment (.venv), so that a
# checkpoint written on one torch is resumed on the other.
OTHER_PYTHON = os.environ.get('MMRETHINK_OTHER_PYTHON')

pytestmark = pytest.mark.stack
ITERS = 6  # checkpoints every 2: the kill lands after one and before the end


def test_a_fresh_interpreter_imports_the_installed_package(tmp_path):
    proc = run(
        [
            sys.executable,
            '-c',
            'import mmrethink, torch; print(mmrethink.__version__, torch.__version__, '
            'mmrethink.__file__)',
        ],
        cwd=str(tmp_path),
        env=installed_env(),
    )
    version, torch_version, path = proc.stdout.split()
    assert torch_version == torch.__version__ and 'site-packages' in path
    assert version


PROBE = textwrap.dedent(
    """
    import io, pickle, torch
    from mmengine.logging import HistoryBuffer
    file = io.BytesIO()
    buffer = HistoryBuffer()
    buffer.update(1.0)
    torch.save({'message_hub': {'log_scalars': {'loss': buffer}}, 'm': HistoryBuffer.mean}, file)
    def loads():
        file.seek(0)
        try:
            torch.load(file)
        except pickle.UnpicklingError:
            return False
        return True
    before = loads()
    import mmrethink
    allowed = getattr(torch.serialization, 'get_safe_globals', lambda: [])()
    print(before, loads(), HistoryBuffer in allowed)
    """
)


def test_the_allowlist_is_registered_exactly_where_torch_loads_weights_only():
    """Before the import, torch's default load refuses mmengine's contents on torch >=
    2.6 only; after it, the default load reads them on every torch, and HistoryBuffer is
    on torch's allowlist exactly where the default load had refused it."""
    before, after, allowlisted = run([sys.executable, '-c', PROBE]).stdout.split()
    assert after == 'True'
    assert allowlisted == ('True' if before == 'False' else 'False'), (before, allowlisted)


def test_a_forced_weights_only_load_imports_and_says_whether_resume_can_work():
    """With ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` (weights only on any torch) the import
    succeeds, and either mmengine's contents then load (the allowlist: torch >= 2.6) or
    a warning says that --resume will fail (no allowlist to add them to: torch 2.1)."""
    env = checkout_env(TORCH_FORCE_WEIGHTS_ONLY_LOAD='1')
    proc = run([sys.executable, '-W', 'always', '-c', PROBE], env=env)
    before, after, _ = proc.stdout.split()
    assert before == 'False'  # the variable took effect
    assert ('--resume will fail' in proc.stderr) == (after == 'False'), proc.stderr


def _torch_of(python: str) -> str:
    return subprocess.run(
        [python, '-c', 'import torch; print(torch.__version__)'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _on(python: str, cmd: list) -> list:
    """``cmd`` (a train_cmd) run by ``python`` instead of this interpreter."""
    assert cmd[0] == sys.executable
    return [python] + cmd[1:]


@pytest.mark.slow
def test_a_checkpoint_written_on_one_torch_resumes_on_the_other(shapes, tmp_path):
    """tools/train.py on one torch, SIGKILLed after its first checkpoint, then
    ``--resume`` on the other torch to the end; both ways round."""
    if OTHER_PYTHON is None:
        pytest.skip('needs the second environment: make test-stack TORCH=2.1.2 sets it')
    assert os.access(OTHER_PYTHON, os.X_OK), f'MMRETHINK_OTHER_PYTHON={OTHER_PYTHON}'
    here, there = _torch_of(sys.executable), _torch_of(OTHER_PYTHON)
    assert here != there, f'both environments have torch {here}'
    for writer, reader, name in (
        (OTHER_PYTHON, sys.executable, f'{there}-to-{here}'),
        (sys.executable, OTHER_PYTHON, f'{here}-to-{there}'),
    ):
        work_dir = str(tmp_path / name)
        cmd = train_cmd(SCRATCH, work_dir, mini_options(shapes, max_iters=ITERS))
        killed = kill_after_first_checkpoint(_on(writer, cmd), work_dir)
        killed_at = checkpoint_iter(killed)
        assert killed_at < ITERS, name
        proc = run(_on(reader, cmd) + ['--resume'])
        log = proc.stdout + proc.stderr
        assert f'resumed epoch: 0, iter: {killed_at}' in log.lower(), (name, log[-3000:])
        final = torch.load(osp.join(work_dir, f'iter_{ITERS}.pth'), map_location='cpu')
        assert final['meta']['iter'] == ITERS, name
