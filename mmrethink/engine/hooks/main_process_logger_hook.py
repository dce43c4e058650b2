"""mmengine's LoggerHook with the test metrics written by one process."""

from typing import TYPE_CHECKING, Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import LoggerHook

from mmrethink.registry import HOOKS

if TYPE_CHECKING:
    from mmengine.runner import Runner


@HOOKS.register_module()
class MainProcessLoggerHook(LoggerHook):
    """``LoggerHook`` whose ``after_test_epoch`` runs in the main process only.

    mmengine 0.10.7's hook dumps the test metrics to ``{work_dir}/{timestamp}/
    {timestamp}.json`` from every process. Under ``tools/dist_test.sh CFG CKPT N`` the
    processes write one file at once, and the shorter write leaves the longer one's tail
    behind: a CI run read ``...}5}``, which no JSON reader parses. Every process holds
    the same metrics (the evaluator broadcasts them), and mmengine prints only the main
    process's log line by default, so the main process alone logs and writes them.
    """

    def after_test_epoch(
        self, runner: 'Runner', metrics: Optional[Dict[str, float]] = None
    ) -> None:
        """Log and dump the test metrics from the main process only."""
        if is_main_process():
            super().after_test_epoch(runner, metrics)
