"""The paper's three claims, tested on a plentiful and a scarce pair of runs.

He et al. 2019 claim that (1) pre-training speeds up convergence: early in training the
pretrained arm leads (Fig. 2); (2) with enough target data, scratch reaches the
pretrained arm's accuracy once both have converged (Table 1); (3) with scarce data it
does not (Sec. 5: 1k and 3.5k COCO images, VOC). This module answers each question from
the convergence records of four runs, states whether each arm reached a plateau, and
draws the four curves in one figure per metric.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from .curves import METRICS, curve
from .figures import plt, save_png_svg
from .runs import Run

# Both the plateau rule and "caught up" use this margin: AP points (He et al. call arms
# within ~0.3 AP on COCO comparable; the demo's 60 validation images are noisier).
TOLERANCE = 1.0
PAIRS = ('plentiful', 'scarce')
ARM_STYLES = {'scratch': dict(color='C0'), 'pretrained': dict(color='C1')}
PAIR_STYLES = {'plentiful': dict(ls='-', marker='o'), 'scarce': dict(ls=':', marker='s')}


@dataclass
class Plateau:
    """Whether a run's last LR stage changed AP by less than the tolerance."""

    reached: bool
    change: Optional[float]  # AP points between the last two evaluations of the stage
    iters: Sequence[int]  # the evaluations compared

    def describe(self) -> str:
        """``plateau (+0.3 from 520 to 540)`` or why not."""
        if self.change is None:
            return 'plateau not judged (fewer than two evaluations in the last LR stage)'
        word = 'plateau' if self.reached else 'no plateau'
        return f'{word} ({self.change:+.1f} from {self.iters[0]} to {self.iters[1]})'


def ap(record: Dict, metric: str) -> float:
    """AP in points; an evaluation without a single detection counts as 0."""
    return 100 * max(record.get(metric, 0.0), 0.0)


def plateau(run: Run, metric: str = 'coco/bbox_mAP', tolerance: float = TOLERANCE) -> Plateau:
    """The plateau rule: within the last LR stage (evaluations at or after the last LR
    drop), the last two evaluations differ by less than ``tolerance`` AP points."""
    start = run.milestones[-1] if run.milestones else 0
    stage = [r for r in run.records if r['iter'] >= start]
    if len(stage) < 2:
        return Plateau(False, None, [r['iter'] for r in stage])
    before, last = stage[-2], stage[-1]
    change = ap(last, metric) - ap(before, metric)
    return Plateau(abs(change) < tolerance, change, [before['iter'], last['iter']])


def rise_before_drops(run: Run, metric: str = 'coco/bbox_mAP') -> Optional[float]:
    """AP points gained between the last two evaluations before the first LR drop.

    The plateau rule looks at the last LR stage, where the LR is 100x lower: an arm can
    pass it while it was still climbing at the full LR, where a longer schedule would
    have taken it further. None when fewer than two evaluations precede the drop.
    """
    first_drop = run.milestones[0] if run.milestones else run.final.get('iter', 0)
    full_lr = [r for r in run.records if r['iter'] <= first_drop]
    return ap(full_lr[-1], metric) - ap(full_lr[-2], metric) if len(full_lr) >= 2 else None


def _gap(scratch: Run, pretrained: Run, metric: str, index: int) -> float:
    return ap(pretrained.records[index], metric) - ap(scratch.records[index], metric)


def findings(runs: Dict[str, Dict[str, Run]], tolerance: float = TOLERANCE) -> List[str]:
    """One line per claim, with its numbers: ``runs[pair][arm]``, pairs plentiful/scarce.

    A gap is pretrained minus scratch, box AP (mask AP in brackets). Scratch "caught
    up" when its final box AP is at most ``tolerance`` below the pretrained arm's; an
    answer about final accuracy says when an arm had not reached a plateau.
    """
    box, mask = 'coco/bbox_mAP', 'coco/segm_mAP'
    first = [
        (pair, _gap(runs[pair]['scratch'], runs[pair]['pretrained'], box, 0)) for pair in PAIRS
    ]
    first_iter = runs['plentiful']['scratch'].records[0]['iter']
    leads = all(gap > 0 for _, gap in first)
    lines = [
        f'1. Early convergence: {"yes" if leads else "no"}: at the first evaluation '
        f'(iteration {first_iter}) pretrained minus scratch is '
        + ', '.join(f'{gap:+.1f} box AP ({pair})' for pair, gap in first)
        + ('; the pretrained arm leads, as in the paper (Fig. 2).' if leads else '.')
    ]
    caught_up, gaps = {}, {}
    for number, pair, claim in (
        (2, 'plentiful', 'Catch-up with plentiful data'),
        (3, 'scarce', 'Breakdown with scarce data'),
    ):
        scratch, pretrained = runs[pair]['scratch'], runs[pair]['pretrained']
        gap, mask_gap = _gap(scratch, pretrained, box, -1), _gap(scratch, pretrained, mask, -1)
        caught = caught_up[pair] = gap <= tolerance
        gaps[pair] = gap
        answer = 'scratch caught up' if caught else 'scratch did not catch up'
        if pair == 'scarce':
            answer = 'no breakdown: ' + answer if caught else 'yes, ' + answer
        expected = (pair == 'plentiful') == caught
        unsettled = [
            arm for arm, run in runs[pair].items() if not plateau(run, box, tolerance).reached
        ]
        rising = {arm: rise_before_drops(run, box) for arm, run in runs[pair].items()}
        climbing = ', '.join(
            f'{arm} {rise:+.1f}' for arm, rise in rising.items() if rise and rise >= tolerance
        )
        lines.append(
            f'{number}. {claim}: {answer}: final box AP {ap(scratch.final, box):.1f} scratch vs '
            f'{ap(pretrained.final, box):.1f} pretrained, gap {gap:+.1f} (mask {mask_gap:+.1f}) '
            f'after {scratch.final["iter"]} iterations; '
            + ('as the paper predicts' if expected else 'not what the paper predicts')
            + (
                f'; provisional: no plateau for {" and ".join(unsettled)}.'
                if unsettled
                else '; both arms reached a plateau.'
            )
            + (
                f' Before the first LR drop box AP was still rising ({climbing} between the'
                ' last two evaluations before it): a longer schedule may change this answer.'
                if climbing
                else ''
            )
        )
    if not any(caught_up.values()):
        lines[-1] += (
            f' Scratch fell short with plentiful data too (gap {gaps["plentiful"]:+.1f}), so'
            ' this run does not isolate the effect of scarce data.'
        )
    return lines


def plot_findings(
    runs: Dict[str, Dict[str, Run]], out_stem: str, tolerance: float = TOLERANCE
) -> List[str]:
    """Box and mask AP against iterations: four curves per panel (arm x pair), LR drops
    dashed, each plateau ringed at the evaluations the rule compared."""
    present = {
        m: t
        for m, t in METRICS.items()
        if any(curve(r, m) for p in runs.values() for r in p.values())
    }
    fig, axes = plt.subplots(1, len(present), figsize=(6.5 * len(present), 4.6), squeeze=False)
    for ax, (metric, title) in zip(axes[0], present.items()):
        drops = set()
        for pair in PAIRS:
            for arm, run in runs[pair].items():
                rule = plateau(run, metric, tolerance)
                ax.plot(
                    *zip(*curve(run, metric)),
                    ms=4,
                    **ARM_STYLES[arm],
                    **PAIR_STYLES[pair],
                    label=f'{arm}, {pair} data: {rule.describe()}',
                )
                if rule.reached:
                    ringed = [
                        (r['iter'], ap(r, metric)) for r in run.records if r['iter'] in rule.iters
                    ]
                    ax.scatter(*zip(*ringed), s=140, facecolors='none', edgecolors='k', lw=1.2)
                drops.update(run.milestones)
        for drop in sorted(drops):
            ax.axvline(drop, color='0.4', ls='--', lw=0.8)
        ax.set_title(f'{title}: LR drops dashed, plateaus ringed')
        ax.set_xlabel('iterations')
        ax.set_ylabel(f'{title} (%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc='upper left')
    return save_png_svg(fig, out_stem)
