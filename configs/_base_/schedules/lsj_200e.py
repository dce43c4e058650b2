_base_ = './lsj_100e.py'

# 200 ep = 2 x 100 ep (Detectron2 mask_rcnn_R_50_FPN_200ep_LSJ.py: max_iter and the
# milestones x 2): 368750 iterations, drops at 327778 and 355092; the warm-up stays
# 500/184375 of the run (warmup_length is a fraction of num_updates): 1000 iterations.
train_cfg = dict(max_iters=368750)
param_scheduler = dict(warmup_iters=1000, milestones=[327778, 355092])
