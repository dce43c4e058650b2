# Today's from-scratch recipe (detectron2/configs/new_baselines/
# mask_rcnn_R_50_FPN_100ep_LSJ.py at 02b5c4e, with ../common/optim.py and train.py):
# - total batch 64 = 8 GPUs x 8 images (train_dataloader.batch_size in
#   datasets/coco_instance_lsj-1024.py; Detectron2 gives these runs a training speed,
#   which its MODEL_ZOO.md reports only for single-machine jobs on 8 V100s);
# - 100 ep = 184375 iters x 64 images / 118000 images per epoch (Detectron2's epoch;
#   99.76 passes over train2017's 118,287 images);
# - LR x0.1 at 163889 and 177546 (8/9 and 26/27 of the run); linear warm-up over the
#   first 500 iterations (Detectron2: warmup_length = 500 / max_iter) from 0.067;
# - SGD lr 0.1, momentum 0.9, weight decay 4e-5 (biases too, at 1x LR), none on norm
#   parameters (get_default_optimizer_params(weight_decay_norm=0.0));
# - evaluation every 5000 iterations (train.eval_period).
# lsj_25e/200e/400e.py scale these as Detectron2's 50ep/200ep/400ep leaves do.
# mmengine's IterBasedTrainLoop, resuming by replaying the sampler (mmrethink/engine/loops).
train_cfg = dict(type='ReplayingIterBasedTrainLoop', max_iters=184375, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0),
)

param_scheduler = dict(
    type='WarmupMultiStepLR',
    by_epoch=False,  # also tells the runner to end it at max_iters, not max_epochs
    warmup_iters=500,
    warmup_factor=0.067,
    milestones=[163889, 177546],
    gamma=0.1,
)

# Detectron2 trains these in fp16 (train.amp.enabled = True). AmpOptimWrapper fails on
# CPU, so the config asks instead of setting it: on a machine with CUDA, tools/train.py
# applies mmrethink/launching/fast_path.py enable_amp (fp16 with dynamic loss scaling;
# amp_dtype says why not bf16) when this is enabled; CPU runs stay fp32.
mixed_precision = dict(enable=True)

# The numbers above are for a total batch of 64. tools/train.py --auto-scale-schedule
# scales iterations, drops, warm-up and intervals by 64/B and the LR by B/64 for the
# real total batch B (same images seen, same LR per image).
auto_scale_schedule = dict(enable=False, base_batch_size=64)
auto_scale_lr = dict(enable=False, base_batch_size=64)
