"""COCO person keypoints (``person_keypoints_*.json``) as an MMDetection dataset.

MMDetection 3.3 reads boxes and masks from a COCO file but drops its keypoints
(mmdetection issue #7518). :class:`CocoKeypointDataset` keeps them per instance and
carries what a keypoint model needs to know about them in its meta: the keypoint names,
the flip map (which keypoint a horizontal flip turns each one into, as Detectron2's
``data/datasets/builtin_meta.py``) and the OKS sigmas the COCO keypoint metric uses.
A file or a meta that cannot give a keypoint arm what it needs fails here, with the fix,
before a model is built.
"""

from typing import Dict, List, Sequence, Union

from mmdet.datasets import CocoDataset
from mmengine.fileio import get_local_path

from mmrethink.registry import DATASETS

from .coco_check import CocoDatasetError, load_coco

COCO_KEYPOINT_NAMES = (
    'nose',
    'left_eye',
    'right_eye',
    'left_ear',
    'right_ear',
    'left_shoulder',
    'right_shoulder',
    'left_elbow',
    'right_elbow',
    'left_wrist',
    'right_wrist',
    'left_hip',
    'right_hip',
    'left_knee',
    'right_knee',
    'left_ankle',
    'right_ankle',
)
# Each left keypoint becomes its right twin under a horizontal flip, and back.
COCO_FLIP_INDICES = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
# COCO's per-keypoint OKS constants (pycocotools cocoeval.py Params.setKpParams).
COCO_KEYPOINT_SIGMAS = (
    0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62,
    1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
)  # fmt: skip
COCO_KEYPOINT_SIGMAS = tuple(s / 10.0 for s in COCO_KEYPOINT_SIGMAS)
KEYPOINT_META_KEYS = ('keypoint_names', 'flip_indices', 'sigmas')


def check_keypoint_meta(meta: Dict, where: str) -> int:
    """The number of keypoints ``meta`` describes; its names, flip map and sigmas must
    agree on it and the flip map must be a permutation that undoes itself."""
    missing = [k for k in KEYPOINT_META_KEYS if not meta.get(k)]
    if missing:
        raise CocoDatasetError(
            f'{where}: the dataset meta lacks {missing}: a keypoint dataset needs '
            f"{list(KEYPOINT_META_KEYS)} (CocoKeypointDataset has COCO's; set "
            'metainfo=dict(...) for other keypoints).'
        )
    names, flip, sigmas = (list(meta[k]) for k in KEYPOINT_META_KEYS)
    if len(flip) != len(names) or len(sigmas) != len(names):
        raise CocoDatasetError(
            f'{where}: {len(names)} keypoint names but a flip map of {len(flip)} and '
            f'{len(sigmas)} sigmas: give flip_indices and sigmas one entry per keypoint.'
        )
    if sorted(flip) != list(range(len(names))) or any(flip[flip[i]] != i for i in flip):
        raise CocoDatasetError(
            f'{where}: flip_indices {flip} is not a pairing of the {len(names)} keypoints: '
            'entry i is the keypoint that keypoint i becomes in a mirrored image (itself '
            'for a keypoint on the axis), and a second flip must undo the first.'
        )
    return len(names)


def check_keypoint_coco(
    coco: Dict, ann_file: str, classes: Sequence[str], num_keypoints: int
) -> None:
    """A COCO file a keypoint arm can train on: its categories ``classes`` list
    ``num_keypoints`` keypoints and its annotations of them carry that many."""
    fix = (
        'a keypoint arm reads a COCO keypoint file (COCO: annotations/'
        'person_keypoints_{train,val}2017.json); point ann_file at one'
    )
    cats = {c['name']: c for c in coco['categories']}
    for name in classes:
        listed = cats.get(name, {}).get('keypoints')
        if not listed:
            raise CocoDatasetError(f'{ann_file}: category {name!r} lists no keypoints: {fix}.')
        if len(listed) != num_keypoints:
            raise CocoDatasetError(
                f'{ann_file}: category {name!r} has {len(listed)} keypoints but the dataset '
                f'meta describes {num_keypoints}: set metainfo keypoint_names, flip_indices '
                "and sigmas for this file's keypoints."
            )
    ids = {cats[n]['id'] for n in classes if n in cats}
    anns = [a for a in coco['annotations'] if a['category_id'] in ids]
    without = [a['id'] for a in anns if len(a.get('keypoints') or ()) != 3 * num_keypoints]
    if without:
        raise CocoDatasetError(
            f'{ann_file}: {len(without)} annotations (e.g. ids {without[:3]}) do not carry '
            f'{num_keypoints} keypoints as x, y, v triples: {fix}.'
        )


@DATASETS.register_module()
class CocoKeypointDataset(CocoDataset):
    """COCO with each instance's ``keypoints`` (K x 3 values: x, y, visibility 0/1/2)
    and the keypoint meta (names, flip map, OKS sigmas) in ``metainfo``.

    The file is checked against the meta when loaded: categories and annotations must
    carry as many keypoints as the meta names. ``filter_cfg`` takes
    ``min_keypoints_per_image`` (Detectron2's ``MIN_KEYPOINTS_PER_IMAGE``, 1 in its
    defaults): training images with fewer labeled keypoints are skipped.
    """

    METAINFO = dict(
        classes=('person',),
        palette=[(220, 20, 60)],
        keypoint_names=COCO_KEYPOINT_NAMES,
        flip_indices=COCO_FLIP_INDICES,
        sigmas=COCO_KEYPOINT_SIGMAS,
    )

    def load_data_list(self) -> List[dict]:
        """mmdet's list, after checking the file and the meta agree on the keypoints."""
        num_keypoints = check_keypoint_meta(self.metainfo, type(self).__name__)
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local:
            check_keypoint_coco(
                load_coco(local), self.ann_file, self.metainfo['classes'], num_keypoints
            )
        return super().load_data_list()

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """mmdet's parsing, each kept instance with its annotation's keypoints."""
        data_info = super().parse_data_info(dict(raw_data_info, raw_ann_info=[]))
        for ann in raw_data_info['raw_ann_info']:
            # mmdet's rules decide which annotations become instances; one at a time
            # tells which annotation each instance comes from.
            one = super().parse_data_info(dict(raw_data_info, raw_ann_info=[ann]))
            for instance in one['instances']:
                instance['keypoints'] = ann['keypoints']
                data_info['instances'].append(instance)
        return data_info

    def get_data_info(self, idx: int) -> dict:
        """mmdet's sample, with the flip map its keypoint transforms read."""
        data_info = super().get_data_info(idx)
        data_info['flip_indices'] = list(self.metainfo['flip_indices'])
        return data_info

    def filter_data(self) -> List[dict]:
        """mmdet's filter, then images with fewer than ``min_keypoints_per_image``
        labeled keypoints dropped from training."""
        data_list = super().filter_data()
        least = (self.filter_cfg or {}).get('min_keypoints_per_image', 0)
        if self.test_mode or not least:
            return data_list
        return [d for d in data_list if _labeled(d['instances']) >= least]


def _labeled(instances: List[dict]) -> int:
    return sum(v > 0 for inst in instances for v in inst['keypoints'][2::3])
