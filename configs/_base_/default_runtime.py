# Runtime shared by every mmrethink config: mmdet's, made iteration-based, plus the
# pack's hooks. Each arm says which it is in default_hooks.arm_guard.
_base_ = 'mmdet::_base_/default_runtime.py'

# Registers the pack's modules when a config is run with mmdet's own tools/train.py.
custom_imports = dict(imports=['mmrethink'], allow_failed_imports=False)

default_hooks = dict(
    # Evaluations logged at their iteration (mmengine's default, by epoch, logs step 0
    # for every evaluation of an iteration-based run); the test metrics JSON written by
    # one process, not by all at once (mmrethink/engine/hooks/main_process_logger_hook.py).
    logger=dict(type='MainProcessLoggerHook', interval=20, log_metric_by_epoch=False),
    # Retention: the last 3 checkpoints and the best one by the first COCO metric.
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3, save_best='auto'),
    convergence=dict(type='ConvergenceHook'),
    finite_loss=dict(type='FiniteLossHook'),
    arm_guard=dict(type='ArmGuardHook', arm='scratch'),
    # With the schedules' ReplayingIterBasedTrainLoop: --resume repeats the
    # uninterrupted run (docs/train.md, "Long runs").
    random_states=dict(type='RandomStateHook'),
)
log_processor = dict(by_epoch=False)
