"""Print a resolved config (mmdet's tools/misc/print_config.py, plus schedules).

    python tools/misc/print_config.py \
        configs/rethinking/mask-rcnn_r50-scratch_fpn_gn-all_ms-9x_coco.py
    python tools/misc/print_config.py CONFIG --auto-scale-schedule --gpus 32  # batch 64
``--schedule`` prints only the arm, loop, LR schedule, batch and evaluation interval: one
line per config.
"""

import argparse

from mmengine.config import Config, DictAction

import mmrethink  # noqa: F401  registers the mmrethink:: scope
from mmrethink.launching.batch_scaling import scale_schedule_to_batch, total_batch_size
from mmrethink.utils.configs import backbone_checkpoint


def schedule_line(cfg: Config, world_size: int) -> str:
    """One line: the config's arm, length, LR drops, warm-up, LR, total batch and
    evaluation interval."""
    arm = 'pretrained' if backbone_checkpoint(cfg.model) else 'scratch'
    scheduler = cfg.param_scheduler
    return (
        f'{arm}: max_iters={cfg.train_cfg.max_iters}, LR drops at '
        f'{list(scheduler.get("milestones", []))}, warm-up '
        f'{scheduler.get("warmup_iters")}, lr={cfg.optim_wrapper.optimizer.lr:g}, '
        f'total batch {total_batch_size(cfg, world_size)}, evaluation every '
        f'{cfg.train_cfg.get("val_interval")}'
    )


def main() -> None:
    """Print each resolved config, or only its schedule line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--gpus', type=int, default=8, help='processes of the real run')
    parser.add_argument(
        '--auto-scale-schedule',
        action='store_true',
        help='show the schedule rescaled to --gpus x images per GPU',
    )
    parser.add_argument('--schedule', action='store_true', help='only the schedule line')
    args = parser.parse_args()
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        if args.auto_scale_schedule:
            scale_schedule_to_batch(cfg, args.gpus)
        if args.schedule:
            print(f'{path}: {schedule_line(cfg, args.gpus)}')
        else:
            print(cfg.pretty_text)


if __name__ == '__main__':
    main()
