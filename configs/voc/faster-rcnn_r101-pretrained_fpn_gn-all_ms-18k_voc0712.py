_base_ = './faster-rcnn_r101-scratch_fpn_gn-all_ms-144k_voc0712.py'

# Pretrained: 18k iterations at batch 16 (82.7 mAP in the paper); drops at 2/3 and 8/9
# of the run (our choice, as for scratch): 12k and 16k.
model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,  # the scratch base has init_cfg=None
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet101_gn')))
default_hooks = dict(arm_guard=dict(arm='pretrained'), checkpoint=dict(interval=2000))
train_cfg = dict(max_iters=18000, val_interval=2000)
param_scheduler = dict(milestones=[12000, 16000])
