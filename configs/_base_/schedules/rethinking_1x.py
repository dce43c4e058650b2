# The paper's optimization (Sec. 4; Detectron's GN configs, detectron/core/config.py):
# SGD, lr 0.02 at batch 16 (8 GPUs x 2 images), momentum 0.9, weight decay 1e-4, none on
# norm parameters (SOLVER.WEIGHT_DECAY_GN = 0); biases at 2x LR without weight decay
# (SOLVER.BIAS_DOUBLE_LR, BIAS_WEIGHT_DECAY = False); linear warm-up over 500
# iterations from 1/3. This is 1x, Detectron's: 90k iterations, drops at 60k and 80k
# (2/3 and 8/9). The longer rethinking_Nx.py files drop at the last 60k and 20k.
# mmengine's IterBasedTrainLoop, resuming by replaying the sampler (mmrethink/engine/loops).
train_cfg = dict(type='ReplayingIterBasedTrainLoop', max_iters=90000, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_lr_mult=2.0, bias_decay_mult=0.0),
)

param_scheduler = dict(
    type='WarmupMultiStepLR',
    by_epoch=False,  # also tells the runner to end it at max_iters, not max_epochs
    warmup_iters=500,
    warmup_factor=1.0 / 3,
    milestones=[60000, 80000],
    gamma=0.1,
)

# Iterations, LR drops, warm-up, checkpoint and validation intervals above are for a
# total batch of 16. When enabled (tools/train.py --auto-scale-schedule), they are
# scaled by 16/B and the LR by B/16 for the real total batch B, so the run sees the
# same images at the same LR per image. MMEngine's auto_scale_lr scales the LR only.
auto_scale_schedule = dict(enable=False, base_batch_size=16)
auto_scale_lr = dict(enable=False, base_batch_size=16)
