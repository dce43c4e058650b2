_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_gn-all_pretrained.py',
    '../_base_/datasets/coco-35k_instance_ms-512-800.py',
    '../_base_/schedules/rethinking_6x.py',
    '../_base_/default_runtime.py',
]

# The paper re-ran its grid search for 35k images and used the same settings for both
# arms: scale augmentation [512, 800] (datasets base), lr 0.04 and decay to 0.02x. It
# does not say how the 0.02x is split; we read it as two equal drops, gamma =
# sqrt(0.02) = 0.1414.
optim_wrapper = dict(optimizer=dict(lr=0.04))
param_scheduler = dict(gamma=0.1414)
# Both arms reach 36.3 box AP at 6x in the paper.
# Pretrained arm: the model base loads the ImageNet model and freezes the stem
# and res2 as Detectron did.
default_hooks = dict(arm_guard=dict(arm='pretrained'))
