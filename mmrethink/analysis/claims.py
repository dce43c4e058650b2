"""The paper's three claims, answered from pairs of runs (a scratch and a pretrained arm).

He et al. 2019 claim that (1) pre-training speeds up convergence: early in training the
pretrained arm leads (Fig. 2); (2) with enough target data, scratch reaches the
pretrained arm's accuracy once both have converged (Table 1); (3) with scarce data it
does not (Sec. 5: 1k and 3.5k COCO images, VOC). One margin decides both "leads" and
"caught up": a box AP gap within :data:`TOLERANCE` points is no gap.

An answer about final accuracy rests on the arm that could still change it, judged by
the one rule (convergence.py): training longer can only raise an arm that is still
rising. So "scratch caught up" (its final AP within the margin of the pretrained arm's,
or above) needs the *pretrained* arm converged, whatever scratch does; "scratch did not
catch up" needs the *scratch* arm converged, whatever the pretrained arm does. When that
arm has not converged the answer is "undecided", naming it (rule of 2026-12-07; before,
both arms had to converge for either answer, which threw decided answers away). The demo
answers all three from a plentiful and a scarce pair; tools/pair_experiment.py answers
(1) and (2) on the user's data.
"""

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, List, Optional

from .convergence import TOLERANCE, Convergence, convergence
from .runs import BOX_AP, MASK_AP, Run, ap_points


@dataclass(frozen=True)
class PairComparison:
    """A scratch and a pretrained run; a gap is pretrained minus scratch, in AP points."""

    scratch: Run
    pretrained: Run

    @property
    def arms(self) -> Dict[str, Run]:
        """``{'scratch': ..., 'pretrained': ...}``."""
        return dict(scratch=self.scratch, pretrained=self.pretrained)

    def gaps(self, metric: str = BOX_AP) -> List[tuple]:
        """``(iteration, gap)`` at every iteration both arms evaluated."""
        pairs = ((r, self.pretrained.at(r['iter'])) for r in self.scratch.records)
        return [(s['iter'], ap_points(p, metric) - ap_points(s, metric)) for s, p in pairs if p]

    def last_ap(self, metric: str = BOX_AP) -> Dict[str, float]:
        """Each arm's AP at its last evaluation (their schedules may differ)."""
        return {arm: ap_points(run.last_evaluation, metric) for arm, run in self.arms.items()}

    def final_gap(self, metric: str = BOX_AP) -> float:
        """The gap between the arms' last evaluations."""
        last = self.last_ap(metric)
        return last['pretrained'] - last['scratch']

    @cached_property
    def verdicts(self) -> Dict[str, Convergence]:
        """Each arm's convergence verdict on box AP (judged once per pair)."""
        return {arm: convergence(run) for arm, run in self.arms.items()}

    def gap_error(self) -> Optional[float]:
        """The standard error of one gap: the two arms' scatter around their lines in the
        judged windows, added in quadrature (None unless the rule judged both arms)."""
        scatters = [v.scatter for v in self.verdicts.values()]
        if any(s is None for s in scatters):
            return None
        return math.sqrt(sum(s**2 for s in scatters))

    def deciding_arm(self) -> str:
        """The arm the catch-up answer rests on: the pretrained arm while scratch ended
        within the margin or above (a scratch arm still rising can only gain), the
        scratch arm while it ended below (a pretrained arm still rising can only widen
        its lead)."""
        # AP is logged to 0.1 point: compare the gap as printed, not its float residue.
        return 'pretrained' if round(self.final_gap(), 1) <= TOLERANCE else 'scratch'

    def caught_up(self) -> Optional[bool]:
        """Whether scratch ended within the margin of the pretrained arm (or above it);
        None (undecided) while the :meth:`deciding_arm` has not converged."""
        deciding = self.deciding_arm()
        if not self.verdicts[deciding].converged:
            return None
        return deciding == 'pretrained'

    def finals_sentence(self) -> str:
        """``final box AP 38.3 scratch (iteration 5400) vs 38.9 pretrained (iteration 5400),
        gap +0.6 (mask +0.4)``."""
        last = self.last_ap()
        mask = (
            f' (mask {self.final_gap(MASK_AP):+.1f})'
            if self.scratch.reports(MASK_AP) and self.pretrained.reports(MASK_AP)
            else ''
        )
        return (
            f'final box AP {last["scratch"]:.1f} scratch (iteration '
            f'{self.scratch.last_evaluation.get("iter", 0)}) vs {last["pretrained"]:.1f} '
            f'pretrained (iteration {self.pretrained.last_evaluation.get("iter", 0)}), gap '
            f'{self.final_gap():+.1f}{plus_minus(self.gap_error())}{mask}'
        )

    def converged_sentence(self) -> str:
        """What a decided answer rests on: ``both arms converged (scratch +0.2 ± 0.4,
        pretrained -0.1 ± 0.3 AP over the last quarter of their full-LR stages)``, or
        ``the pretrained arm converged (+0.3 ± 0.5 AP over 1800-2400); scratch, still
        rising (+4.1 ± 0.5 AP over 3600-4800), could only gain``."""
        if all(v.converged for v in self.verdicts.values()):
            rises = ', '.join(
                f'{arm} {v.rise:+.1f} ± {v.noise:.1f}' for arm, v in self.verdicts.items()
            )
            return f'both arms converged ({rises} AP over the last quarter of their full-LR stages)'
        deciding = self.deciding_arm()
        other = 'scratch' if deciding == 'pretrained' else 'pretrained'
        could = 'could only gain' if other == 'scratch' else 'could only widen its lead'
        verdicts = self.verdicts
        return (
            f'the {deciding} arm {verdicts[deciding].describe()}; {other}, '
            f'{verdicts[other].describe()}, {could}'
        )


def plus_minus(error: Optional[float]) -> str:
    """`` ± 0.8`` for a standard error, nothing for None."""
    return '' if error is None else f' ± {error:.1f}'


def early_lead(pairs: Dict[str, PairComparison]) -> str:
    """Claim 1: the gap at each pair's first common evaluation."""
    title = '1. Early convergence'
    firsts = {name: pair.gaps()[:1] for name, pair in pairs.items()}
    unpaired = [name for name, first in firsts.items() if not first]
    if unpaired:
        return (
            f'{title}: undecided: the arms of {", ".join(unpaired)} never evaluated at the '
            'same iteration (give both arms one evaluation interval).'
        )
    leads = all(gap > TOLERANCE for ((_, gap),) in firsts.values())
    every = ' in every pair' if len(pairs) > 1 else ''
    return (
        f'{title}: {"yes" if leads else "no"}: at the first evaluation, pretrained minus '
        'scratch is '
        + ', '.join(
            f'{gap:+.1f} box AP ({name}, iteration {i})' for name, ((i, gap),) in firsts.items()
        )
        + (
            f'; the pretrained arm leads by more than {TOLERANCE:g} point, as in the paper'
            ' (Fig. 2).'
            if leads
            else f'; not a lead of more than {TOLERANCE:g} point{every}.'
        )
    )


def undecided_answer(pair: PairComparison) -> str:
    """The answer when the arm it rests on has not converged: the numbers, that arm,
    and why it decides."""
    deciding = pair.deciding_arm()
    why = (
        'a pretrained arm not yet converged could pull ahead of scratch'
        if deciding == 'pretrained'
        else 'a scratch arm not yet converged could still close the gap'
    )
    return (
        f'undecided: {pair.finals_sentence()}, but not converged: {deciding} '
        f'({pair.verdicts[deciding].describe()}), and {why}.'
    )


def _final_accuracy(
    pair: PairComparison, title: str, caught: str, short: str, paper_expects_catch_up: bool
) -> str:
    """``title: <caught or short>: <finals>; ...`` once the deciding arm converged, else
    undecided."""
    caught_up = pair.caught_up()
    if caught_up is None:
        return f'{title}: {undecided_answer(pair)}'
    agrees = 'as' if caught_up == paper_expects_catch_up else 'not what'
    return (
        f'{title}: {caught if caught_up else short} (margin {TOLERANCE:g} point): '
        f'{pair.finals_sentence()}; {pair.converged_sentence()}; {agrees} the paper predicts.'
    )


def catch_up(pair: PairComparison, title: str = '2. Catch-up') -> str:
    """Claim 2 on one pair: caught up, not, or undecided."""
    return _final_accuracy(
        pair, title, 'yes, scratch caught up', 'no, scratch did not catch up', True
    )


def breakdown(plentiful: PairComparison, scarce: PairComparison) -> str:
    """Claim 3: scratch falls short with scarce data, where it caught up with plentiful."""
    line = _final_accuracy(
        scarce,
        '3. Breakdown with scarce data',
        'no breakdown: scratch caught up',
        'yes, scratch did not catch up',
        False,
    )
    if scarce.caught_up() is None:
        return line
    if plentiful.caught_up() is None:
        return line + ' But the plentiful pair is undecided, so this does not isolate scarce data.'
    if not plentiful.caught_up() and not scarce.caught_up():
        return line + (
            f' Scratch fell short with plentiful data too (gap {plentiful.final_gap():+.1f}), so'
            ' this run does not isolate the effect of scarce data.'
        )
    return line


def answered(claims: List[str]) -> str:
    """``Answered: 2 of 3 claims (undecided: 2. Catch-up with plentiful data).``: what a
    run answered, said before the answers (an answer reads ``<title>: <verdict>: ...``)."""
    titles = [claim.split(': ', 1)[0] for claim in claims]
    open_titles = [t for t, c in zip(titles, claims) if c.split(': ')[1] == 'undecided']
    left = f' (undecided: {"; ".join(open_titles)})' if open_titles else ''
    return f'Answered: {len(claims) - len(open_titles)} of {len(claims)} claims{left}.'


def claim_answers(plentiful: PairComparison, scarce: PairComparison) -> List[str]:
    """The three claims, one line each, with their numbers."""
    return [
        early_lead(dict(plentiful=plentiful, scarce=scarce)),
        catch_up(plentiful, '2. Catch-up with plentiful data'),
        breakdown(plentiful, scarce),
    ]


def pair_details(pair: PairComparison) -> List[str]:
    """Per-arm convergence, the gap at each common evaluation, and when scratch reached
    the pretrained arm's final box AP (the pretrained arm may train shorter)."""
    lines = [f'- {arm}: {verdict.describe()}' for arm, verdict in pair.verdicts.items()]
    for metric, label in ((BOX_AP, 'box'), (MASK_AP, 'mask')):
        if pair.scratch.reports(metric) and pair.pretrained.reports(metric):
            lines.append(
                f'- {label} AP gap (pretrained - scratch) at each evaluation: '
                + ', '.join(f'{i}: {g:+.1f}' for i, g in pair.gaps(metric))
            )
    target = pair.last_ap()['pretrained']
    reached = next(
        (r['iter'] for r in pair.scratch.records if ap_points(r, BOX_AP) >= target - TOLERANCE),
        None,
    )
    lines.append(
        f"- scratch came within {TOLERANCE:g} point of the pretrained arm's final box AP "
        f'({target:.1f}) at iteration {reached}.'
        if reached is not None
        else f"- scratch never came within {TOLERANCE:g} point of the pretrained arm's final "
        f'box AP ({target:.1f}).'
    )
    return lines
