_base_ = './rethinking_9x.py'

# Until converged: the full-LR stage ends at the first evaluation at which the
# convergence rule holds (UntilConvergedHook, mmrethink/utils/convergence_rule.py), at
# the latest at 9x's first drop, 750k (the cap: the paper's longest schedule); then the
# Nx rule's tail wherever the stage ended: 790k - 750k = 40k iterations at LR/10 and
# 810k - 790k = 20k at LR/100 (4/9 and 2/9 of a 1x at batch 16).
default_hooks = dict(until_converged=dict(type='UntilConvergedHook'))
