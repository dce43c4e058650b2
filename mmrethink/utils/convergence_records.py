"""The convergence record: one JSON line per evaluation, behind the paper's figures.

``ConvergenceHook`` writes the records; the analysis and the tests read them. Both sides
use this module, so the format has one definition. A record holds the iteration, the
learning rate, the images, instances and pixels seen so far (all ranks) and the
evaluation's metrics. The file is only ever appended to: after a resume, a record past
the resumed checkpoint is superseded by the one written again, so readers keep the last
record per iteration.
"""

import json
from typing import Dict, List, Mapping

FILENAME = 'convergence.jsonl'  # inside the work dir
COUNTS = ('images', 'instances', 'pixels')


def convergence_record(
    iteration: int, lr: float, counts: Mapping[str, int], metrics: Mapping[str, float]
) -> Dict:
    """``{iter, lr, images, instances, pixels, <metrics>}``."""
    return dict(iter=iteration, lr=lr, **{k: counts[k] for k in COUNTS}, **metrics)


def append_record(path: str, record: Dict) -> None:
    """Append one record to the convergence file at ``path``."""
    with open(path, 'a') as f:
        f.write(json.dumps(record) + '\n')


def read_convergence(path: str) -> List[Dict]:
    """Records of a convergence file, the last one per iteration, sorted by iteration."""
    latest = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                latest[record['iter']] = record
    return [latest[i] for i in sorted(latest)]
