"""Set an mmengine Runner up for training and step it one iteration at a time.

``Runner.train()`` is the public way to train, but it sets up and runs the whole loop
in one call. The benchmark interleaves several configs iteration by iteration, so it
repeats ``train()``'s set-up (mmengine 0.10.7, ``mmengine/runner/runner.py``) and then
calls the loop's public ``run_iter``. Two steps of that set-up exist only as private
members: the unbuilt loop config in ``Runner._train_loop`` and
``Runner._init_model_weights``. Both are listed, with the package's other uses of
private upstream names, in :mod:`mmrethink.compat.private_api`, whose test fails as
soon as an mmengine release renames either, before the benchmark would break.
"""

from mmengine.runner import BaseLoop, Runner


def start_training(runner: Runner) -> BaseLoop:
    """Everything ``Runner.train()`` does before its first iteration; returns the loop."""
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
    runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
    runner.call_hook('before_run')
    runner._init_model_weights()
    runner.optim_wrapper.initialize_count_status(runner.model, 0, runner.max_iters)
    runner.call_hook('before_train')
    runner.call_hook('before_train_epoch')
    runner.model.train()
    return runner.train_loop
