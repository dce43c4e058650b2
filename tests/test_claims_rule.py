"""Issue 40: the catch-up rule rests on the arm that could still change the answer.

"Scratch caught up" needs the pretrained arm converged (a scratch arm still rising can
only gain); "scratch did not catch up" needs the scratch arm converged (a pretrained arm
still rising can only widen its lead). Each case is a table of evaluations: box AP at
iterations 100-1800, the first LR drop at 1600, so the rule judges 1200-1600.
"""

import pytest

from mmrethink.analysis.claims import PairComparison, catch_up
from mmrethink.analysis.runs import Run

BOX, MASK = 'coco/bbox_mAP', 'coco/segm_mAP'
ITERS = (300, 600, 900, 1200, 1300, 1400, 1500, 1600, 1800)
# Box AP at ITERS: a converged arm is flat over 1200-1600; a rising one climbs 1 point
# per 100 iterations there (+4 across the window); each ends +1 after the drops.
TABLE = {
    'flat 72.9': (40.0, 60.0, 70.0, 71.9, 71.9, 71.9, 71.9, 71.9, 72.9),
    'flat 71.9': (40.0, 60.0, 68.0, 70.9, 70.9, 70.9, 70.9, 70.9, 71.9),
    'flat 73.3': (45.0, 65.0, 71.0, 72.3, 72.3, 72.3, 72.3, 72.3, 73.3),
    'rising to 76.8': (30.0, 50.0, 62.0, 71.8, 72.8, 73.8, 74.8, 75.8, 76.8),
    'rising to 66.0': (30.0, 45.0, 55.0, 61.0, 62.0, 63.0, 64.0, 65.0, 66.0),
    'rising to 80.0': (50.0, 65.0, 70.0, 75.0, 76.0, 77.0, 78.0, 79.0, 80.0),
    'rising to 73.5': (30.0, 45.0, 60.0, 68.5, 69.5, 70.5, 71.5, 72.5, 73.5),
    'flat 60.1': (40.0, 55.0, 57.0, 59.1, 59.1, 59.1, 59.1, 59.1, 60.1),
    'flat 61.1': (40.0, 55.0, 58.0, 60.1, 60.1, 60.1, 60.1, 60.1, 61.1),
    # evaluated once in the window (None: no evaluation there): the rule does not judge it
    'flat 72.9, once in the window': (40.0, 60.0, 70.0, None, None, None, None, 71.9, 72.9),
}


def _run(name: str, row: str) -> Run:
    records = [
        {'iter': i, BOX: ap / 100, MASK: ap / 100}
        for i, ap in zip(ITERS, TABLE[row])
        if ap is not None
    ]
    return Run(name, records, milestones=[1600, 1700])


def _pair(scratch: str, pretrained: str) -> PairComparison:
    return PairComparison(_run('scratch', scratch), _run('pretrained', pretrained))


TITLE = '2. Catch-up'
CASES = {
    # scratch ahead and still rising, the pretrained arm converged: caught up
    'scratch ahead and rising': (
        'rising to 76.8',
        'flat 72.9',
        True,
        '2. Catch-up: yes, scratch caught up (margin 1 point): final box AP 76.8 scratch '
        '(iteration 1800) vs 72.9 pretrained (iteration 1800), gap -3.9 ± 0.0 (mask -3.9); the '
        'pretrained arm converged (+0.0 ± 0.0 AP over 1200-1600); scratch, still rising '
        '(+4.0 ± 0.0 AP over 1200-1600), could only gain; as the paper predicts.',
    ),
    # scratch behind and still rising: it could still close the gap
    'scratch behind and rising': (
        'rising to 66.0',
        'flat 72.9',
        None,
        '2. Catch-up: undecided: final box AP 66.0 scratch (iteration 1800) vs 72.9 '
        'pretrained (iteration 1800), gap +6.9 ± 0.0 (mask +6.9), but not converged: scratch '
        '(still rising (+4.0 ± 0.0 AP over 1200-1600)), and a scratch arm not yet converged '
        'could still close the gap.',
    ),
    # the pretrained arm ahead and still rising, scratch converged: did not catch up
    'pretrained rising while ahead': (
        'flat 71.9',
        'rising to 80.0',
        False,
        '2. Catch-up: no, scratch did not catch up (margin 1 point): final box AP 71.9 '
        'scratch (iteration 1800) vs 80.0 pretrained (iteration 1800), gap +8.1 ± 0.0 (mask '
        '+8.1); the scratch arm converged (+0.0 ± 0.0 AP over 1200-1600); pretrained, '
        'still rising (+4.0 ± 0.0 AP over 1200-1600), could only widen its lead; not what '
        'the paper predicts.',
    ),
    # the pretrained arm rising while scratch is level with it: it could pull ahead
    'pretrained rising while level': (
        'flat 72.9',
        'rising to 73.5',
        None,
        '2. Catch-up: undecided: final box AP 72.9 scratch (iteration 1800) vs 73.5 '
        'pretrained (iteration 1800), gap +0.6 ± 0.0 (mask +0.6), but not converged: pretrained '
        '(still rising (+4.0 ± 0.0 AP over 1200-1600)), and a pretrained arm not yet converged '
        'could pull ahead of scratch.',
    ),
    # both converged, 1.4 apart on the 1-point margin: did not catch up
    'both converged': (
        'flat 71.9',
        'flat 73.3',
        False,
        '2. Catch-up: no, scratch did not catch up (margin 1 point): final box AP 71.9 '
        'scratch (iteration 1800) vs 73.3 pretrained (iteration 1800), gap +1.4 ± 0.0 '
        '(mask +1.4); both arms converged (scratch +0.0 ± 0.0, pretrained +0.0 ± 0.0 AP '
        'over the last quarter of their full-LR stages); not what the paper predicts.',
    ),
    # scratch ahead, the pretrained arm not judged: not converged, so it could pull ahead
    'scratch ahead, pretrained not judged': (
        'rising to 76.8',
        'flat 72.9, once in the window',
        None,
        '2. Catch-up: undecided: final box AP 76.8 scratch (iteration 1800) vs 72.9 '
        'pretrained (iteration 1800), gap -3.9 (mask -3.9), but not converged: pretrained '
        '(not judged: 1 evaluation(s) in 1200-1600, the last quarter of the full-LR stage '
        '(the rule needs 3)), and a pretrained arm not yet converged could pull ahead of '
        'scratch.',
    ),
    # both converged, 1.0 apart as logged (1.000000000000007 in floats): within the margin
    'both converged, on the margin': (
        'flat 60.1',
        'flat 61.1',
        True,
        '2. Catch-up: yes, scratch caught up (margin 1 point): final box AP 60.1 scratch '
        '(iteration 1800) vs 61.1 pretrained (iteration 1800), gap +1.0 ± 0.0 (mask +1.0); '
        'both arms converged (scratch +0.0 ± 0.0, pretrained +0.0 ± 0.0 AP over the last '
        'quarter of their full-LR stages); as the paper predicts.',
    ),
    # both rising: scratch behind, so the answer rests on scratch, which is rising
    'both rising': (
        'rising to 66.0',
        'rising to 76.8',
        None,
        '2. Catch-up: undecided: final box AP 66.0 scratch (iteration 1800) vs 76.8 '
        'pretrained (iteration 1800), gap +10.8 ± 0.0 (mask +10.8), but not converged: '
        'scratch (still rising (+4.0 ± 0.0 AP over 1200-1600)), and a scratch arm not yet '
        'converged could still close the gap.',
    ),
}


@pytest.mark.parametrize('case', CASES)
def test_each_case_gets_its_answer_and_its_sentence(case):
    scratch, pretrained, expected, sentence = CASES[case]
    pair = _pair(scratch, pretrained)
    assert pair.caught_up() is expected
    assert catch_up(pair, TITLE) == sentence
