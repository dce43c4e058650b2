"""mmengine's training scalars (``vis_data/scalars.json``), read as a run writes them.

The launching code watches running jobs through them and the analysis reads them
back; both read with :class:`ScalarsReader`.
"""

import glob
import json
import os.path as osp
from typing import Dict, List


class ScalarsReader:
    """The scalars a running mmengine job writes, read as they arrive.

    mmengine's ``LocalVisBackend`` appends one JSON record per logged training iteration
    (``iter``, ``lr``, ``loss``, ...) and per evaluation (the metrics, at ``step``) to
    ``<work_dir>/<timestamp>/vis_data/scalars.json``. Reading those records, rather than
    parsing the text log, keeps progress displays independent of mmengine's log format.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.offsets: Dict[str, int] = {}

    def new_records(self) -> List[Dict]:
        """Records written since the last call, from every session of the work dir."""
        records = []
        pattern = osp.join(self.work_dir, '*', 'vis_data', 'scalars.json')
        for path in sorted(glob.glob(pattern)):
            with open(path) as f:
                f.seek(self.offsets.get(path, 0))
                lines = f.read().split('\n')
                complete, partial = lines[:-1], lines[-1]  # a line being written waits
                self.offsets[path] = f.tell() - len(partial.encode())
            records += [json.loads(line) for line in complete if line.strip()]
        return records
