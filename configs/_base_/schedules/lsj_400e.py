_base_ = './lsj_100e.py'

# 400 ep = 4 x 100 ep (Detectron2 mask_rcnn_R_50_FPN_400ep_LSJ.py: max_iter and the
# milestones x 4): 737500 iterations, drops at 655556 and 710184; the warm-up stays
# 500/184375 of the run: 2000 iterations (MMDetection's 400e leaf too: end=500 * 4).
train_cfg = dict(max_iters=737500)
param_scheduler = dict(warmup_iters=2000, milestones=[655556, 710184])
