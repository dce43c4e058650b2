_base_ = './lsj_100e.py'

# 25 ep = 100 ep / 4, the pretrained arms' short schedule, written as Detectron2 writes
# its 50ep leaf (mask_rcnn_R_50_FPN_50ep_LSJ.py: max_iter //= 2, milestones // 2, the
# warm-up fraction 500/184375 kept): 184375 // 4 = 46093 iterations, drops at
# 163889 // 4 = 40972 and 177546 // 4 = 44386, warm-up 500/184375 x 46093 = 125.
train_cfg = dict(max_iters=46093)
param_scheduler = dict(warmup_iters=125, milestones=[40972, 44386])
