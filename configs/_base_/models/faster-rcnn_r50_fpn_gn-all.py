# Faster R-CNN: the GN Mask R-CNN without its mask branch, so the two share every
# other setting (what MMDetection's configs/scratch Faster R-CNN is, with its twin).
_base_ = './mask-rcnn_r50_fpn_gn-all.py'

model = dict(type='FasterRCNN', roi_head=dict(mask_roi_extractor=None, mask_head=None))
