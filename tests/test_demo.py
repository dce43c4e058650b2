"""Issues 11 and 18: the demo tests the paper's claims (stream data, the convergence rule,
the answers, side-by-side runs, ETA). The end-to-end smoke run is in test_tools.py."""

import json
import os
import os.path as osp
import re
import sys
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import REPO, evaluated_iterations, run
from mmrethink.analysis.claims import PairComparison, answered, claim_answers
from mmrethink.analysis.convergence import convergence
from mmrethink.analysis.runs import Run
from mmrethink.datasets import SyntheticShapesStream, make_detection_set
from mmrethink.launching.parallel_runs import Job, JobFailed, run_jobs
from mmrethink.pairing.progress import DemoClock, run_stage
from mmrethink.pairing.report import answers

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


# Synthetic records: evaluations every 100 iterations; the full-LR stage ends at the first
# drop, 1600, so the rule looks at 1200-1600 (five evaluations); the run ends at 1800.
ITERS = tuple(range(100, 1700, 100)) + (1700, 1800)
DROPS = [1600, 1700]


def _run(name: str, box, mask=None, iters=ITERS, milestones=DROPS) -> Run:
    """A run whose box AP (a list, or a function of the iteration) is in points."""
    box = [box(i) for i in iters] if callable(box) else box
    mask = mask or box
    records = [{'iter': i, BOX: b / 100, MASK: m / 100} for i, b, m in zip(iters, box, mask)]
    return Run(name, records, milestones=list(milestones))


def _flat_at(final: float, start: float = 5.0):
    """AP that rises to ``final`` by iteration 1000, flat up to the drop, +1 after it."""
    return lambda i: min(start + (final - start) * i / 1000, final) + (1.0 if i > 1600 else 0.0)


def _rising(slope_per_100: float, start: float = 5.0):
    """AP still rising at ``slope_per_100`` points per 100 iterations at the first drop."""
    return lambda i: start + slope_per_100 * min(i, 1600) / 100


def test_convergence_rule_fails_a_rising_curve_and_passes_a_flat_one():
    flat = convergence(_run('flat', _flat_at(30)))
    assert flat.converged and flat.rise == pytest.approx(0.0, abs=1e-9)
    assert flat.window == (1200, 1600) and flat.evaluations == 5
    assert flat.describe() == 'converged (+0.0 ± 0.0 AP over 1200-1600)'
    rising = convergence(_run('rising', _rising(0.3)))  # +1.2 over the window's 400 iters
    assert rising.converged is False and rising.rise == pytest.approx(1.2)
    assert rising.describe() == 'still rising (+1.2 ± 0.0 AP over 1200-1600)'
    assert convergence(_run('slow', _rising(0.2))).converged  # +0.8: within the point
    # Noise of +-0.8 points around a flat line is no rise; the fitted line judges.
    noise = [0.8, -0.8, 0.8, -0.8, 0.8]
    noisy = _flat_at(30)
    noisy_run = _run(
        'noisy', lambda i: noisy(i) + (noise[(i - 1200) // 100] if 1200 <= i <= 1600 else 0)
    )
    verdict = convergence(noisy_run)
    # Standard error of the rise: sqrt(3.072 / 3 / 100000) * 400 = 1.28 (residuals 3.072),
    # and of one evaluation around the line: sqrt(3.072 / 3).
    assert verdict.converged and verdict.noise == pytest.approx(1.28)
    assert verdict.scatter == pytest.approx((3.072 / 3) ** 0.5)
    # A gap between two such arms: their scatters in quadrature.
    gap_error = PairComparison(noisy_run, noisy_run).gap_error()
    assert gap_error == pytest.approx((2 * 3.072 / 3) ** 0.5)
    assert PairComparison(noisy_run, _run('sparse', [1.0], iters=(100,))).gap_error() is None
    # The rule does not forgive noise: a rise of 1.2 stays a rise, however noisy.
    noisy_rise = convergence(
        _run(
            'noisy rise',
            lambda i: _rising(0.3)(i) + (noise[(i - 1200) // 100] if 1200 <= i <= 1600 else 0),
        )
    )
    assert noisy_rise.converged is False and noisy_rise.rise == pytest.approx(1.2)
    # Falling (a scarce arm overfitting) has stopped rising: a longer schedule cannot help.
    assert convergence(_run('falling', lambda i: 40 - i / 100)).converged


def test_convergence_rule_reads_only_the_end_of_the_full_lr_stage():
    # A jump after the LR drop cannot make a rising arm converged, nor a flat one rising.
    jump = _run('jump', lambda i: _rising(0.5)(i) + (20 if i > 1600 else 0))
    assert convergence(jump).converged is False
    # The climb before the last quarter is not judged.
    assert convergence(_run('climb', lambda i: min(i / 10, 100.0) if i < 1200 else 100.0)).converged
    # Mask AP is judged on its own.
    mixed = _run('mixed', _flat_at(30), mask=[_rising(1)(i) for i in ITERS])
    assert convergence(mixed).converged and not convergence(mixed, MASK).converged
    # Too few evaluations in the window: not judged, and never "converged".
    sparse = _run('sparse', [10, 20, 30, 31, 32], iters=(400, 800, 1200, 1700, 1800))
    verdict = convergence(sparse)
    assert verdict.converged is None and verdict.evaluations == 1
    assert verdict.describe().startswith('not judged: 1 evaluation(s) in 1200-1600')
    # No drop: the whole run is the full-LR stage.
    assert convergence(_run('no drop', _rising(1), milestones=[])).window == (1350, 1800)


def _pair(scratch, pretrained, **kwargs) -> PairComparison:
    return PairComparison(_run('s', scratch, **kwargs), _run('p', pretrained, **kwargs))


def test_answers_for_paper_like_records():
    plentiful = _pair(_flat_at(38.3, start=2), _flat_at(38.9, start=8))
    scarce = _pair(_flat_at(12, start=1), _flat_at(25, start=5))
    one, two, three = claim_answers(plentiful, scarce)
    assert one.startswith(
        '1. Early convergence: yes: at the first evaluation, pretrained minus scratch is '
        '+5.5 box AP (plentiful, iteration 100), +4.9 box AP (scarce, iteration 100)'
    )
    assert two == (
        '2. Catch-up with plentiful data: yes, scratch caught up (margin 1 point): '
        'final box AP 39.3 scratch (iteration 1800) vs 39.9 pretrained (iteration 1800), gap '
        '+0.6 ± 0.0 (mask +0.6); both arms converged (scratch +0.0 ± 0.0, pretrained +0.0 ± 0.0 '
        'AP over the last quarter of their full-LR stages); as the paper predicts.'
    )
    assert three.startswith(
        '3. Breakdown with scarce data: yes, scratch did not catch up (margin 1 point): '
    )
    assert 'gap +13.0 ± 0.0' in three and three.endswith('as the paper predicts.')
    assert answered([one, two, three]) == 'Answered: 3 of 3 claims.'


def test_answers_for_contrary_records():
    # Scratch converged below the pretrained arm with plentiful data, and caught up with
    # scarce data: both answers contradict the paper, and claim 3 is not isolated.
    plentiful = _pair(_flat_at(30), _flat_at(35))
    scarce = _pair(_flat_at(20, start=9), _flat_at(20.5))
    one, two, three = claim_answers(plentiful, scarce)
    assert one.startswith('1. Early convergence: no: ') and '-3.5 box AP (scarce' in one
    assert one.endswith('; not a lead of more than 1 point in every pair.')
    assert two.startswith('2. Catch-up with plentiful data: no, scratch did not catch up')
    assert 'gap +5.0 ± 0.0' in two and two.endswith('not what the paper predicts.')
    assert three.startswith('3. Breakdown with scarce data: no breakdown: scratch caught up')
    assert three.endswith('not what the paper predicts.')
    neither = claim_answers(plentiful, _pair(_flat_at(10), _flat_at(20)))[2]
    assert neither.startswith('3. Breakdown with scarce data: yes, scratch did not catch up')
    assert neither.endswith(
        'Scratch fell short with plentiful data too (gap +5.0), so this run does not isolate '
        'the effect of scarce data.'
    )


def test_answers_are_undecided_when_an_arm_has_not_converged():
    plentiful = _pair(_rising(1), _flat_at(35))  # scratch behind, still rising at the drop
    scarce = _pair(_flat_at(10), _flat_at(20))
    one, two, three = claim_answers(plentiful, scarce)
    assert two.startswith('2. Catch-up with plentiful data: undecided: final box AP')
    assert two.endswith(
        'but not converged: scratch (still rising (+4.0 ± 0.0 AP over 1200-1600)), and a '
        'scratch arm not yet converged could still close the gap.'
    )
    assert 'yes' not in two and 'no,' not in two
    assert three.endswith(
        'But the plentiful pair is undecided, so this does not isolate scarce data.'
    )
    assert answered([one, two, three]) == (
        'Answered: 2 of 3 claims (undecided: 2. Catch-up with plentiful data).'
    )
    both = claim_answers(_pair(_flat_at(30), _flat_at(30)), _pair(_rising(2), _rising(3)))[2]
    assert both.startswith('3. Breakdown with scarce data: undecided: ')
    assert 'scratch (still rising' in both and 'could still close the gap' in both


def test_gaps_pair_evaluations_by_iteration_not_by_position():
    # The pretrained arm trains shorter and evaluates at other iterations (pair_experiment).
    scratch = _run('s', lambda i: i / 100, iters=(50, 100, 150, 200, 300))
    pretrained = _run('p', lambda i: 10 + i / 100, iters=(100, 200), milestones=[])
    pair = PairComparison(scratch, pretrained)
    assert pair.gaps() == [(100, pytest.approx(10.0)), (200, pytest.approx(10.0))]
    assert pair.final_gap() == pytest.approx(12.0 - 3.0)
    # The first evaluation of each pair is its own: iteration 100 here, 50 in the other.
    lines = answers(dict(mine=dict(scratch=scratch, pretrained=pretrained)))
    # After what was answered.
    assert '+10.0 box AP (mine, iteration 100)' in lines[2]
    lines = answers(
        dict(
            plentiful=dict(scratch=scratch, pretrained=pretrained),
            scarce=dict(scratch=scratch, pretrained=scratch),
        )
    )
    assert '(plentiful, iteration 100), +0.0 box AP (scarce, iteration 50)' in lines[2]
    # Arms that never evaluated at the same iteration: no gap to read, claim 1 undecided.
    apart = PairComparison(scratch, _run('p', [20.0], iters=(75,), milestones=[]))
    assert apart.gaps() == []
    told, _, first, *_ = answers(
        dict(mine=dict(scratch=apart.scratch, pretrained=apart.pretrained))
    )
    assert first == (
        '1. Early convergence: undecided: the arms of mine never evaluated at the same '
        'iteration (give both arms one evaluation interval).'
    )
    assert told == 'Answered: 0 of 2 claims (undecided: 1. Early convergence; 2. Catch-up).'


def test_report_of_a_box_only_pair(tmp_path):
    from mmrethink.pairing.report import write_report

    def counted(name, box):
        run = _run(name, box)
        for record in run.records:  # no mask AP: a Faster R-CNN; counts as ConvergenceHook's
            del record[MASK]
            record.update(images=4 * record['iter'], instances=8 * record['iter'], pixels=1)
        return run

    pair = dict(scratch=counted('s', _flat_at(30)), pretrained=counted('p', _flat_at(32)))
    written = write_report(dict(boxes=pair), str(tmp_path), 'Boxes')
    summary = open(tmp_path / 'summary.md').read()
    assert (
        '2. Catch-up: no, scratch did not catch up (margin 1 point): final box AP 31.0' in summary
    )
    assert '(mask' not in summary and 'mask AP gap' not in summary
    results = open(tmp_path / 'results.md').read()
    row = next(line for line in results.splitlines() if line.startswith('| s |'))
    assert row.split('|')[3:5] == [' 31.0 ', ' — ']  # box AP, no mask AP
    svg = open(tmp_path / 'curves.svg').read()
    assert 'bbox AP' in svg and 'mask AP' not in svg  # one panel
    assert str(tmp_path / 'summary.md') in written


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


def test_side_by_side_jobs_report_records_with_their_thread_budget(tmp_path, monkeypatch):
    """Both jobs run at once (each sleeps 1.5 s between its start and end times: one
    after the other, the intervals could not overlap), each limited to one thread (set by
    run_jobs, not inherited: `make test` itself runs with one thread)."""
    monkeypatch.setenv('OMP_NUM_THREADS', '7')
    monkeypatch.setenv('MKL_NUM_THREADS', '7')
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


def test_slots_start_the_next_job_as_soon_as_one_ends(tmp_path):
    """Three jobs in two slots: the first two at once, the third in the first freed slot."""
    quick = _job(tmp_path, 'quick', WRITE_SCALARS.replace('time.sleep(1.5)', 'time.sleep(0.5)'))
    jobs = [_job(tmp_path, 'slow', WRITE_SCALARS.replace('1.5', '4')), quick]
    jobs.append(_job(tmp_path, 'next', WRITE_SCALARS))
    seen = {}
    run_jobs(jobs, lambda job, record: seen.setdefault(job.name, record), threads=1, slots=2)
    slow, quick, after = seen['slow'], seen['quick'], seen['next']
    assert max(slow['start'], quick['start']) < min(slow['end'], quick['end']), seen
    assert quick['end'] <= after['start'] < slow['end'], f'not started in the freed slot: {seen}'


def test_a_failure_stops_the_queue_before_its_waiting_jobs_start(tmp_path):
    failing = _job(tmp_path, 'broken', 'import sys; sys.exit(3)')
    queued = _job(tmp_path, 'queued', WRITE_SCALARS)
    with pytest.raises(JobFailed, match='broken failed'):
        run_jobs([failing, queued], lambda job, record: None, threads=1, slots=1, poll_s=0.1)
    assert not osp.exists(queued.log)  # never started
    with pytest.raises(ValueError, match='slots must be at least 1'):
        run_jobs([queued], lambda job, record: None, threads=1, slots=0)


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


def test_an_arm_that_chose_its_end_counts_to_it_in_progress_and_eta(tmp_path, capsys):
    """An arm trained until converged ends before its cap: once its schedule.json says
    where, its progress lines and the ETA count to that end, not to the cap."""
    write_chosen_then_scalars = (
        'import json, os, sys; w = sys.argv[1]; d = os.path.join(w, "t", "vis_data"); '
        'os.makedirs(d); json.dump(dict(stage_end=40, max_iters=60, cap=400), '
        'open(os.path.join(w, "schedule.json"), "w")); '
        'open(os.path.join(d, "scalars.json"), "w").write('
        'json.dumps(dict(iter=60, lr=0.0002, loss=0.5)) + "\\n")'
    )
    clock = DemoClock(dict(pairs=100))
    clock.begin('pairs')
    run_stage(clock, [_job(tmp_path, 'scratch_plentiful', write_chosen_then_scalars, 600)], 1)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ['  [scratch_plentiful] iter 60/60  lr 0.0002  loss 0.5000  | demo ETA 0:00']


def test_eta_follows_the_plan_while_arms_may_end_anywhere_between_bounds(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time, 'time', lambda: now[0])
    clock = DemoClock(dict(pairs=100, report=0))
    clock.begin('pairs')
    now[0] = 30.0  # 25% to 50% done: the stage takes 60 to 120 s; planned 100
    assert clock.remaining(0.25, most=0.5) == pytest.approx(70)
    now[0] = 90.0  # 50% to 60%: 150 to 180 s; the plan is too short, so the least
    assert clock.remaining(0.5, most=0.6) == pytest.approx(60)
    now[0] = 27.0  # 30% to 90%: 30 to 90 s; the plan is too long, so the most
    assert clock.remaining(0.3, most=0.9) == pytest.approx(63)


def test_eta_of_an_arm_still_at_its_full_lr_follows_the_plan_not_the_cap(tmp_path, capsys):
    """Counted to its cap, an arm trained until converged that will end at half of it
    made the ETA run twice as long as the stage would (21:36 when 13 minutes were left,
    in the default demo); the plan is the estimate while the arm may end anywhere."""
    write_scalars = (
        'import json, os, sys; d = os.path.join(sys.argv[1], "t", "vis_data"); '
        'os.makedirs(d); open(os.path.join(d, "scalars.json"), "w").write('
        'json.dumps(dict(iter=240, lr=0.02, loss=0.5)) + "\\n")'
    )
    clock = DemoClock(dict(pairs=100))
    clock.begin('pairs')
    clock.started -= 50  # 50 s into a stage planned at 100: 240 of a 600-iteration cap
    job = _job(tmp_path, 'scratch_plentiful', write_scalars, 600)
    run_stage(clock, [job], 1, tails=dict(scratch_plentiful=100))
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith('  [scratch_plentiful] iter 240/600  lr 0.02  loss 0.5000  | demo ETA ')
    minutes, seconds = map(int, line.rsplit(' ', 1)[1].split(':'))
    assert 40 <= 60 * minutes + seconds <= 50  # counted to the cap: 75 s (50 / 0.4 - 50)


def test_demo_stage_stops_naming_the_failed_arms_log(tmp_path):
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


def test_the_default_demo_lets_the_rule_judge_every_arm():
    from mmrethink.analysis.convergence import MIN_EVALUATIONS
    from mmrethink.pairing.demo import DEMO_CONFIGS, DETECTOR, SCALES

    base = Config.fromfile(osp.join(DEMO_CONFIGS, DETECTOR.format(arm='scratch')))
    # The configs' own: the paper's 6x at the demo's 1x of 900, drops at the last 600 and
    # 200. The demo's caps: the same 6x for both pairs, evaluated every 150 (the configs:
    # 300), on 640 and 64 images; at the cap the rule's window still holds more
    # evaluations than its minimum.
    assert (base.train_cfg.max_iters, base.param_scheduler.milestones) == (5400, [4800, 5200])
    scale = SCALES['default']
    assert (scale.plentiful, scale.scarce) == (640, 64)
    for pair in ('plentiful', 'scarce'):
        cap = scale.schedules[pair]
        assert (cap['train_cfg']['max_iters'], cap['param_scheduler']['milestones']) == (
            5400,
            [4800, 5200],
        )
    assert scale.pairs == ('plentiful', 'scarce')
    for pair in scale.pairs:
        cfg = base.copy()
        cfg.merge_from_dict(scale.schedules.get(pair, {}))
        evaluated = evaluated_iterations(cfg.train_cfg)
        run = _run(
            pair,
            [10.0] * len(evaluated),
            iters=evaluated,
            milestones=cfg.param_scheduler.milestones,
        )
        verdict = convergence(run)
        assert verdict.evaluations >= MIN_EVALUATIONS + 1, (pair, verdict)
        assert verdict.window[1] == cfg.param_scheduler.milestones[0]


def test_a_resume_inside_dynamic_intervals_reruns_only_an_evaluation_the_run_makes():
    from mmengine.runner.utils import calc_dynamic_intervals

    from mmrethink.engine.hooks.convergence_hook import val_interval_at

    # pair_experiment's judged window: every 11, every 4 over 49-65, every 11 again.
    milestones, intervals = calc_dynamic_intervals(11, [(50, 4), (67, 11)])
    loop = SimpleNamespace(
        val_interval=11, dynamic_milestones=milestones, dynamic_intervals=intervals
    )
    train_cfg = dict(max_iters=97, val_interval=11, dynamic_intervals=[(50, 4), (67, 11)])
    evaluated = evaluated_iterations(train_cfg)
    for iteration in range(1, 97):  # a checkpoint at 55 (every 11) was not an evaluation
        assert (iteration % val_interval_at(loop, iteration) == 0) == (iteration in evaluated)
    assert val_interval_at(SimpleNamespace(val_interval=7), 55) == 7  # no dynamic intervals


def test_noise_summary_separates_evaluation_from_scatter():
    from mmrethink.diagnostics.noise import summarize

    iters = range(100, 900, 100)
    curve = [50 + 0.01 * i - 4e-6 * i**2 for i in iters]  # a smooth climb, flattening
    wiggle = [0.5, -0.5] * 4  # between evaluations; a quadratic cannot follow it
    records = [
        dict(iter=i, raw_A=c + w + 1.0, raw_B=c + w - 1.0, ema_A=c, ema_B=c)
        for i, c, w in zip(iters, curve, wiggle)
    ]
    noise = summarize(records)
    # A and B two points apart at every evaluation: one set's noise is sqrt(4 / 2).
    assert noise['raw']['evaluation'] == pytest.approx(2**0.5)
    assert noise['ema']['evaluation'] == pytest.approx(0.0)
    assert noise['ema']['scatter'] == pytest.approx(0.0, abs=1e-9)
    # What a quadratic through 8 evenly spaced points leaves of a +-0.5 alternation: 2 -
    # 4/42 of its energy of 2 per set, over 2 x (8 - 3) degrees of freedom.
    assert noise['raw']['scatter'] == pytest.approx((2 * (2 - 4 / 42) / 10) ** 0.5)


@pytest.mark.slow
def test_noise_tool_scores_two_disjoint_sets(tmp_path):
    out = tmp_path / 'noise'
    proc = run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'misc', 'demo_noise.py'),
            '--out',
            str(out),
            '--iters',
            '8',
            '--interval',
            '2',
            '--val',
            '4',
            '--images',
            '16',
            '--summarize-from',
            '2',
        ]
    )
    rows = [line for line in proc.stdout.splitlines() if re.match(r'\| \d+ \|', line)]
    assert [row.split('|')[1].strip() for row in rows] == ['2', '4', '6', '8']
    assert '| raw |' in proc.stdout and '| ema |' in proc.stdout
    files = {
        name: json.load(open(out / f'val_{name}' / 'annotations' / 'instances_val.json'))
        for name in ('A', 'B')
    }
    boxes = {name: [a['bbox'] for a in f['annotations']] for name, f in files.items()}
    assert len(files['A']['images']) == 4 and boxes['A'] != boxes['B']  # two seeds
    assert len((out / 'noise.jsonl').read_text().splitlines()) == 4
    again = run(
        [sys.executable, osp.join(REPO, 'tools', 'misc', 'demo_noise.py'), '--out', str(out)],
        check=False,
    )
    assert again.returncode != 0 and 'is not empty; pass another --out' in again.stderr
    few = run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'misc', 'demo_noise.py'),
            '--out',
            str(tmp_path / 'new'),
        ]
        + ['--iters', '8', '--interval', '0'],
        check=False,
    )
    assert few.returncode != 0 and 'the summary needs at least 4' in few.stderr
    assert not (tmp_path / 'new').exists()  # refused before anything was written


def test_each_arms_lr_drops_are_marked_on_its_own_curve(monkeypatch, tmp_path):
    """Arms of a pair drop at other iterations (each ends its full-LR stage by the rule):
    each arm's drops are triangles in its colour, on its curve, and nothing else."""
    from mmrethink.analysis import curves

    figures = []
    monkeypatch.setattr(curves, 'save_png_svg', lambda fig, stem: figures.append(fig) or [])
    scratch = _run('s', _rising(1), milestones=[1600, 1700])
    pretrained = _run('p', _flat_at(35), iters=ITERS[:12], milestones=[900, 1100])
    curves.plot_pairs(dict(plentiful=dict(scratch=scratch, pretrained=pretrained)), 'x')
    [box_panel] = [ax for ax in figures[0].axes if ax.get_title().startswith('bbox AP')]
    marked = {
        line.get_color(): [tuple(p) for p in line.get_xydata()]
        for line in box_panel.get_lines()
        if line.get_marker() == 'v'
    }
    assert marked == {
        curves.ARM_COLOURS['scratch']: [(1600, 21.0), (1700, 21.0)],
        curves.ARM_COLOURS['pretrained']: [(900, pytest.approx(32.0)), (1100, 35.0)],
    }
    # No line across the panel at a drop (whose arm would it be?).
    spans = [line for line in box_panel.get_lines() if len(set(line.get_xdata())) == 1]
    assert [line.get_marker() for line in spans] == []
