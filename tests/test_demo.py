"""Issue 11: the demo tests the paper's claims (stream data, plateau rule, findings,
side-by-side runs, ETA). The end-to-end smoke run is in test_tools.py."""

import json
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from helpers import REPO
from mmrethink.analysis.findings import findings, plateau
from mmrethink.analysis.runs import Run
from mmrethink.datasets import SyntheticShapesStream, make_detection_set
from mmrethink.launching.parallel_runs import Job, JobFailed, run_jobs

sys.path.insert(0, osp.join(REPO, 'tools'))
from demo import DemoClock  # noqa: E402

BOX, MASK = 'coco/bbox_mAP', 'coco/segm_mAP'


def _stream(num_images: int = 20, seed: int = 0) -> SyntheticShapesStream:
    with DefaultScope.overwrite_default_scope('mmdet'):
        return SyntheticShapesStream(num_images=num_images, seed=seed, pipeline=[])


def test_stream_image_depends_only_on_seed_and_index():
    a, b = _stream(), _stream()
    later_first = b.render(7)  # another order, another instance
    for index in (0, 3, 7):
        x, y = a.render(index), (later_first if index == 7 else b.render(index))
        assert np.array_equal(x['img'], y['img'])
        assert x['instances'] == y['instances'] and x['instances']
    assert _stream(5).render(3)['instances'] == a.render(3)['instances']  # a prefix: scarce
    other = _stream(seed=1).render(3)
    assert not np.array_equal(other['img'], a.render(3)['img'])


def test_stream_matches_the_files_of_the_same_set(tmp_path):
    ann_file = make_detection_set(str(tmp_path), 4, seed=0, split='train')
    coco = json.load(open(ann_file))
    stream = _stream(4)
    for image in coco['images']:
        index = image['id'] - 1
        sample = stream.render(index)
        assert stream.get_data_info(index)['height'] == image['height']
        written = cv2.imread(osp.join(str(tmp_path), 'train', image['file_name']))
        assert np.array_equal(written, sample['img'])
        boxes = [a['bbox'] for a in coco['annotations'] if a['image_id'] == image['id']]
        assert [
            [x0, y0, x1 - x0, y1 - y0]
            for x0, y0, x1, y1 in (i['bbox'] for i in sample['instances'])
        ] == boxes


def test_stream_feeds_mmdet_pipeline():
    pipeline = [
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
        dict(type='Resize', scale=(128, 128), keep_ratio=True),
        dict(type='PackDetInputs'),
    ]
    with DefaultScope.overwrite_default_scope('mmdet'):
        stream = SyntheticShapesStream(num_images=3, pipeline=pipeline)
        sample = stream[1]
    assert max(sample['inputs'].shape[1:]) == 128
    assert len(sample['data_samples'].gt_instances) == len(stream.render(1)['instances'])
    with pytest.raises(ValueError, match='num_images >= 1'):
        _stream(0)


def _run(name: str, box: list, mask: list = None, iters=(30, 60, 480, 520, 540)) -> Run:
    mask = mask or box
    records = [{'iter': i, BOX: b, MASK: m} for i, b, m in zip(iters, box, mask)]
    return Run(name, records, milestones=[480, 520])


def test_plateau_rule_compares_the_last_two_evaluations_of_the_last_lr_stage():
    flat = plateau(_run('a', [0.1, 0.2, 0.30, 0.350, 0.359]))
    assert flat.reached and flat.change == pytest.approx(0.9) and list(flat.iters) == [520, 540]
    rising = plateau(_run('a', [0.1, 0.2, 0.30, 0.350, 0.361]))
    assert not rising.reached and rising.change == pytest.approx(1.1)
    # A jump before the last drop does not count; a fall in the stage does.
    assert plateau(_run('a', [0.1, 0.2, 0.10, 0.350, 0.352])).reached
    assert not plateau(_run('a', [0.1, 0.2, 0.3, 0.350, 0.330])).reached
    lone = plateau(_run('a', [0.1, 0.2, 0.3, 0.35], iters=(30, 60, 480, 540)))
    assert not lone.reached and lone.change is None and 'not judged' in lone.describe()
    assert plateau(_run('a', [0.1, 0.2, 0.3, 0.3, 0.305]), MASK).reached  # per metric


def test_findings_answer_each_claim_with_its_numbers():
    paper_like = dict(
        plentiful=dict(
            scratch=_run('s', [0.02, 0.05, 0.30, 0.38, 0.383]),
            pretrained=_run('p', [0.08, 0.12, 0.33, 0.39, 0.389]),
        ),
        scarce=dict(
            scratch=_run('s', [0.01, 0.03, 0.10, 0.12, 0.121]),
            pretrained=_run('p', [0.05, 0.09, 0.20, 0.25, 0.251]),
        ),
    )
    one, two, three = findings(paper_like)
    assert one.startswith('1. Early convergence: yes: at the first evaluation (iteration 30)')
    assert '+6.0 box AP (plentiful), +4.0 box AP (scarce)' in one
    assert two.startswith('2. Catch-up with plentiful data: scratch caught up: final box AP 38.3')
    assert 'gap +0.6' in two and 'as the paper predicts; both arms reached a plateau.' in two
    assert three.startswith('3. Breakdown with scarce data: yes, scratch did not catch up')
    assert 'gap +13.0' in three and 'as the paper predicts' in three
    assert 'does not isolate' not in three  # scratch caught up with plentiful data

    contrary = dict(
        plentiful=dict(
            scratch=_run('s', [0.09, 0.1, 0.2, 0.24, 0.26]),  # still rising: no plateau
            pretrained=_run('p', [0.05, 0.1, 0.3, 0.35, 0.35]),
        ),
        scarce=dict(scratch=_run('s', [0.2] * 5), pretrained=_run('p', [0.2] * 5)),
    )
    one, two, three = findings(contrary)
    assert one.startswith('1. Early convergence: no:') and '-4.0 box AP (plentiful)' in one
    assert 'scratch did not catch up' in two and 'gap +9.0' in two
    assert 'not what the paper predicts; provisional: no plateau for scratch.' in two
    assert three.startswith('3. Breakdown with scarce data: no breakdown: scratch caught up')
    assert 'not what the paper predicts' in three

    neither = dict(
        contrary, scarce=dict(scratch=_run('s', [0.1] * 5), pretrained=_run('p', [0.2] * 5))
    )
    three = findings(neither)[2]
    assert three.startswith('3. Breakdown with scarce data: yes, scratch did not catch up')
    assert three.endswith(
        'Scratch fell short with plentiful data too (gap +9.0), so this run does not isolate '
        'the effect of scarce data.'
    )


def _job(tmp_path, name: str, code: str, max_iters: int = 1) -> Job:
    work_dir = str(tmp_path / name)
    os.makedirs(work_dir)
    cmd = [sys.executable, '-c', code, work_dir]
    return Job(name, cmd, work_dir, str(tmp_path / f'{name}.log'), max_iters)


WRITE_SCALARS = (
    'import json, os, sys, time; d = os.path.join(sys.argv[1], "t", "vis_data"); '
    'os.makedirs(d); start = time.time(); time.sleep(1.5); '
    'record = dict(iter=1, loss=1.0, threads=os.environ["OMP_NUM_THREADS"], '
    'mkl=os.environ["MKL_NUM_THREADS"], start=start, end=time.time()); '
    'open(os.path.join(d, "scalars.json"), "w").write(json.dumps(record) + "\\n")'
)


def test_side_by_side_jobs_report_records_with_their_thread_budget(tmp_path):
    """Both jobs run at once (each sleeps 1.5 s between its start and end times: one
    after the other, the intervals could not overlap), each limited to one thread."""
    jobs = [_job(tmp_path, name, WRITE_SCALARS) for name in ('a', 'b')]
    seen = {}
    run_jobs(jobs, lambda job, record: seen.setdefault(job.name, record), threads=1, poll_s=0.1)
    assert sorted(seen) == ['a', 'b']
    for record in seen.values():
        assert (record['iter'], record['loss'], record['threads'], record['mkl']) == (
            1,
            1.0,
            '1',
            '1',
        )
    a, b = seen['a'], seen['b']
    assert max(a['start'], b['start']) < min(a['end'], b['end']), f'ran one after the other: {seen}'


def test_one_failing_job_stops_the_others_and_names_its_log(tmp_path):
    pid_file = tmp_path / 'sleeper.pid'
    sleeper = _job(
        tmp_path,
        'sleeper',
        f'import os, time; open({str(pid_file)!r}, "w").write(str(os.getpid())); time.sleep(120)',
    )
    failing = _job(
        tmp_path, 'broken', 'import sys, time; time.sleep(1); print("boom"); sys.exit(3)'
    )
    start = time.time()
    with pytest.raises(JobFailed) as error:
        run_jobs([sleeper, failing], lambda job, record: None, threads=1, poll_s=0.1)
    assert f'broken failed (exit 3); see its log: {failing.log}' == str(error.value)
    assert time.time() - start < 30
    assert 'boom' in open(failing.log).read()
    with pytest.raises(ProcessLookupError):  # terminated and reaped, not left running
        os.kill(int(pid_file.read_text()), 0)


def test_eta_scales_later_stages_by_the_pace_of_the_done_ones(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, 'time', lambda: now[0])
    clock = DemoClock(dict(first=10, second=100))
    clock.begin('first')
    assert clock.remaining(0) == pytest.approx(110)  # the plan, before any progress
    now[0] = 10.0
    assert clock.remaining(0.5) == pytest.approx(10 + 2 * 100)  # twice as slow as planned
    now[0] = 20.0
    clock.end()
    clock.begin('second')
    now[0] = 70.0
    assert clock.remaining(0.5) == pytest.approx(50)
    assert clock.eta(0.5) == 'demo ETA 0:50'


def test_rise_before_drops_flags_a_plateau_made_by_the_lr_drop():
    from mmrethink.analysis.findings import rise_before_drops

    climbing = _run('s', [0.02, 0.05, 0.10, 0.15, 0.151], iters=(30, 60, 360, 520, 540))
    climbing.milestones = [480, 520]
    assert plateau(climbing).reached  # the last stage is flat ...
    assert rise_before_drops(climbing) == pytest.approx(5.0)  # ... the full-LR one was not
    runs = dict(
        plentiful=dict(scratch=climbing, pretrained=climbing),
        scarce=dict(scratch=climbing, pretrained=climbing),
    )
    assert (
        'still rising (scratch +5.0, pretrained +5.0 between the last two evaluations before it)'
        in findings(runs)[1]
    )
    assert rise_before_drops(_run('s', [0.1, 0.2], iters=(480, 540))) is None


def test_demo_stage_stops_naming_the_failed_arms_log(tmp_path):
    from demo import run_stage

    clock = DemoClock(dict(plentiful=10))
    clock.begin('plentiful')
    broken = _job(tmp_path, 'scratch_plentiful', 'import sys; sys.exit(1)')
    other = _job(tmp_path, 'pretrained_plentiful', 'import time; time.sleep(120)')
    start = time.time()
    with pytest.raises(SystemExit) as stop:
        run_stage(clock, [broken, other], threads=1)
    assert str(stop.value) == (
        f'demo stopped: scratch_plentiful failed (exit 1); see its log: {broken.log}'
    )
    assert time.time() - start < 30
