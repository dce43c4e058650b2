"""Checks run before a Runner is built, each failing with the setting to change.

A detection run that starts on bad input fails late (at the first batch, the first
evaluation) or not at all (wrong classes are silently dropped). These checks read the
config and the annotation files once, before any model is built.
"""

import glob
import os.path as osp
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

from mmengine import fileio
from mmengine.config import Config
from mmengine.logging import print_log

from mmrethink.datasets.coco_check import check_coco
from mmrethink.datasets.coco_keypoints import (
    CocoKeypointDataset,
    check_keypoint_coco,
    check_keypoint_meta,
)
from mmrethink.utils.configs import DATALOADERS, as_list
from mmrethink.utils.refusal import Refusal


class PreflightError(Refusal, ValueError):
    """A config or work dir that cannot run as given; the message names the problem and
    the fix. (A COCO dataset's own problems raise
    :class:`~mmrethink.datasets.coco_check.CocoDatasetError`.)"""


def _dataset_cfgs(cfg: Config) -> Iterator[tuple]:
    for split in DATALOADERS:
        loader = cfg.get(split)
        if loader is None:
            continue
        stack = [loader.dataset]
        while stack:
            dataset = stack.pop()
            if 'datasets' in dataset:
                stack.extend(dataset.datasets)
            elif 'dataset' in dataset:
                stack.append(dataset.dataset)
            else:
                yield split, dataset


def check_work_dir(work_dir: str, config_path: str, resume: bool) -> None:
    """Refuse to overwrite another run; a run is continued only with --resume."""
    if not osp.isdir(work_dir):
        return
    name = osp.basename(config_path)
    dumped = sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.py')))
    if dumped and name not in dumped:
        raise PreflightError(
            f'work dir {work_dir} holds another experiment ({", ".join(dumped)}), not '
            f'{name}. Pass another --work-dir.'
        )
    has_checkpoint = bool(glob.glob(osp.join(work_dir, '*.pth')))
    if has_checkpoint and not resume:
        raise PreflightError(
            f'work dir {work_dir} already holds checkpoints of {name}. Pass --resume '
            'to continue that run, or another --work-dir to start a new one.'
        )


def _num_classes(model: Dict) -> Optional[int]:
    heads = model.get('roi_head', {}).get('bbox_head')
    head = as_list(heads)[0] if heads else None
    return head.get('num_classes') if isinstance(head, dict) else None


def check_coco_dataset(split: str, dataset: Dict, model: Dict) -> Dict[str, int]:
    """The dataset's root exists, its COCO file and images pass :func:`check_coco`, its
    classes match the model; count what the loader will skip.

    A dataset read through mmengine's file backends (``backend_args``, e.g. an object
    store) has its annotation file read and checked through the same backend; its
    images are not listed one by one (a request per image), and the log says so.
    """
    root = dataset.get('data_root') or ''
    backend_args = dataset.get('backend_args')
    local = backend_args is None and '://' not in root
    if local and root and not osp.isdir(root):
        raise PreflightError(
            f'{split}: data_root {root} does not exist. Point '
            f'{split}.dataset.data_root at the dataset.'
        )
    ann_file = fileio.join_path(root, dataset['ann_file'], backend_args=backend_args)
    image_dir = fileio.join_path(
        root, dataset.get('data_prefix', {}).get('img', ''), backend_args=backend_args
    )
    from mmdet.datasets import CocoDataset

    default = CocoKeypointDataset if dataset.get('type') == 'CocoKeypointDataset' else CocoDataset
    classes = list(dataset.get('metainfo', {}).get('classes') or default.METAINFO['classes'])
    checks = dict(
        split=split,
        classes=classes,
        fix_classes=f'set {split}.dataset.metainfo=dict(classes=...) to names in the file',
        fix_images=f'check {split}.dataset.data_prefix.img',
    )
    if local:
        coco = check_coco(ann_file, image_dir, **checks)
    else:
        if not fileio.exists(ann_file, backend_args=backend_args):
            raise PreflightError(
                f'{split}: annotation file {ann_file} not found through '
                f'backend_args={backend_args}: check data_root and ann_file.'
            )
        with fileio.get_local_path(ann_file, backend_args=backend_args) as local_ann_file:
            coco = check_coco(local_ann_file, None, **checks)
        print_log(
            f'{split}: {ann_file} read through backend_args={backend_args}: its '
            f'{len(coco["images"])} images were not checked one by one under {image_dir} '
            '(a missing one stops training when it is loaded).',
            logger='current',
        )
    num_classes = _num_classes(model)
    if num_classes is not None and num_classes != len(classes):
        raise PreflightError(
            f'the model predicts {num_classes} classes but {split} has {len(classes)}: '
            f'set model.roi_head.bbox_head.num_classes (and mask_head.num_classes) to '
            f'{len(classes)}.'
        )
    keypoint_head = model.get('roi_head', {}).get('keypoint_head')
    if keypoint_head is not None or dataset.get('type') == 'CocoKeypointDataset':
        check_keypoint_dataset(split, dataset, keypoint_head, coco, ann_file, classes)
    with_ann = {a['image_id'] for a in coco['annotations']}
    counts = dict(
        images_without_annotations=sum(im['id'] not in with_ann for im in coco['images']),
        zero_area_boxes=sum(
            a['bbox'][2] < 1 or a['bbox'][3] < 1 or a.get('area', 1) <= 0
            for a in coco['annotations']
        ),
        degenerate_polygons=sum(
            len(p) < 6
            for a in coco['annotations']
            if isinstance(a.get('segmentation'), list)
            for p in a['segmentation']
        ),
    )
    if any(counts.values()):
        print_log(
            f'{split}: {ann_file}: skipped by the loader: '
            + ', '.join(f'{v} {k.replace("_", " ")}' for k, v in counts.items()),
            logger='current',
        )
    return counts


def check_keypoint_dataset(
    split: str,
    dataset: Dict,
    keypoint_head: Optional[Dict],
    coco: Dict,
    ann_file: str,
    classes: List[str],
) -> None:
    """A keypoint arm's dataset: of a keypoint type, its meta consistent (names, flip
    map, sigmas), its file carrying that many keypoints, the head predicting as many."""
    if dataset.get('type') != 'CocoKeypointDataset':
        raise PreflightError(
            f'{split}: the model has a keypoint head but the dataset is '
            f'{dataset.get("type")}, which loads no keypoints: set '
            f'{split}.dataset.type="CocoKeypointDataset" with a COCO keypoint ann_file.'
        )
    meta = dict(CocoKeypointDataset.METAINFO, **dataset.get('metainfo', {}))
    num_keypoints = check_keypoint_meta(meta, f'{split}.dataset.metainfo')
    check_keypoint_coco(coco, ann_file, classes, num_keypoints)
    head = (keypoint_head or {}).get('num_keypoints', num_keypoints)
    if head != num_keypoints:
        raise PreflightError(
            f'the keypoint head predicts {head} keypoints but {split} has {num_keypoints}: '
            f'set model.roi_head.keypoint_head.num_keypoints to {num_keypoints}.'
        )


def preflight(cfg: Config, config_path: str, resume: bool) -> List[Dict[str, int]]:
    """Run every check that applies to ``cfg``; return the skip counts per dataset."""
    check_work_dir(cfg.work_dir, config_path, resume)
    counts = []
    for split, dataset in _dataset_cfgs(cfg):
        if 'Coco' in str(dataset.get('type', '')) and 'ann_file' in dataset:
            counts.append(check_coco_dataset(split, dataset, cfg.model))
    print_log(f'preflight: work dir and {len(counts)} COCO datasets checked', logger='current')
    return counts


@contextmanager
def explained_build_errors() -> Iterator[None]:
    """Re-raise known model-building errors with the setting that fixes them."""
    try:
        yield
    except ValueError as e:
        if 'divisible by num_groups' in str(e):
            raise PreflightError(
                f'GroupNorm: {e}. Every GN layer needs num_groups to divide its '
                'channels: change norm_cfg.num_groups (32 in the paper) or the layer '
                'widths (e.g. the backbone base_channels, neck out_channels).'
            ) from e
        raise
