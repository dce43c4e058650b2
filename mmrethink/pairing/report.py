"""The report of paired experiments: figures, tables and the answers, from their runs.

One writer for both users of pairs: tools/pair_experiment.py (one pair, on the user's
data) and the demo (a plentiful and a scarce pair, the paper's three claims). The
answers come from mmrethink.analysis.claims, so both say "caught up" and "undecided"
by the same rule.
"""

import json
import os.path as osp
from typing import Dict, List

from mmrethink.analysis.accounting import IMAGENET, measured_samples, plot_samples, samples_table
from mmrethink.analysis.claims import (
    PairComparison,
    answered,
    catch_up,
    claim_answers,
    early_lead,
    pair_details,
)
from mmrethink.analysis.convergence import MIN_EVALUATIONS, TOLERANCE, WINDOW
from mmrethink.analysis.curves import plot_curves, plot_pairs
from mmrethink.analysis.results import results_table
from mmrethink.analysis.runs import Run, load_run
from mmrethink.engine.hooks.until_converged_hook import SCHEDULE_FILE

RULE = (
    f'Convergence rule (mmrethink/analysis/convergence.py): over the last {WINDOW:.0%} of '
    'the full-LR stage (up to the first LR drop), the least-squares line through the box '
    f'AP evaluations (at least {MIN_EVALUATIONS}) rises by less than {TOLERANCE:g} point. '
    f'Arms within {TOLERANCE:g} point are comparable: a gap within it is no lead and counts '
    'as caught up. An answer about final accuracy rests on the arm that could still change '
    'it (training longer only raises an arm not converged): "caught up" needs the '
    'pretrained arm converged, "did not catch up" the scratch arm; else "undecided". '
    'Each ± is a standard error from this run: of a rise, from the scatter of the '
    "evaluations around the line; of a final gap, the two arms' scatter added in "
    'quadrature.'
)


def answers(pairs: Dict[str, Dict[str, Run]]) -> List[str]:
    """The claims the pairs can answer: all three for ``plentiful`` and ``scarce``,
    early convergence and catch-up for a single pair; then each pair's details."""
    compared = {
        name: PairComparison(arms['scratch'], arms['pretrained']) for name, arms in pairs.items()
    }
    if set(compared) == {'plentiful', 'scarce'}:
        lines = claim_answers(compared['plentiful'], compared['scarce'])
    elif len(compared) == 1:
        (pair,) = compared.values()
        lines = [early_lead(compared), catch_up(pair)]
    else:
        raise ValueError(f'pairs must be one pair or plentiful and scarce, got {sorted(pairs)}')
    lines = [answered(lines), '', *lines]
    for name, pair in compared.items():
        lines += ['', f'### {name}', *pair_details(pair)]
    return lines


def training_lengths(work_dirs: Dict[str, str]) -> List[str]:
    """How long each arm of an until-converged pair trained at the full LR and in all,
    in iterations and images seen (its ``schedule.json`` and evaluation records): the
    number a sweep of 1x, 2x, 3x ... would otherwise have to find."""
    lines = []
    for arm, work_dir in work_dirs.items():
        path = osp.join(work_dir, SCHEDULE_FILE)
        if not osp.isfile(path):
            lines.append(f'- {arm}: no {SCHEDULE_FILE}: the run did not end its full-LR stage.')
            continue
        with open(path) as f:
            chosen = json.load(f)
        last = load_run(work_dir).records[-1]
        end = chosen['stage_end']  # at the cap, maybe between two evaluations
        seen = round(end * last['images'] / last['iter'])  # one batch size throughout
        lines.append(
            f'- {arm}: the full-LR stage ended at iteration {end} '
            f'({seen} images seen): {chosen["reason"]}; with the tail, '
            f'{last["iter"]} iterations ({last["images"]} images), of a cap of '
            f'{chosen["cap"]} at the full LR.'
        )
    return lines


def write_report(
    pairs: Dict[str, Dict[str, Run]],
    out_dir: str,
    title: str,
    preamble: str = '',
    pre_training: Dict[str, float] = IMAGENET,
) -> List[str]:
    """``pairs[pair][arm]``: curves (iterations, images seen), results and samples
    tables, and summary.md; each table in its own file too. Returns the paths."""
    runs = [run for arms in pairs.values() for run in arms.values()]
    written = plot_pairs(pairs, osp.join(out_dir, 'curves'))
    written += plot_curves(runs, osp.join(out_dir, 'curves_images'), x='images')
    samples = [measured_samples(run, pre_training) for run in runs]
    written += plot_samples(samples, osp.join(out_dir, 'samples'))
    tables = dict(results=results_table(runs), samples=samples_table(samples))
    summary = (
        f'# {title} (measured)\n\n{preamble}## Answers\n\n'
        + '\n'.join(answers(pairs))
        + f'\n\n{RULE}\n\n## Results\n\n{tables["results"]}\n\n'
        f'## Samples seen (Figure 1)\n\n{tables["samples"]}\n'
    )
    for name, text in dict(tables, summary=summary).items():
        written.append(osp.join(out_dir, f'{name}.md'))
        with open(written[-1], 'w') as f:
            f.write(text.rstrip('\n') + '\n')
    return written
