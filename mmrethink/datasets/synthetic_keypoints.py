"""A generated COCO keypoint set: stick figures whose joints are the keypoints.

Each image holds one to a few upright figures (tilted by up to ``MAX_TILT``) drawn as
thick limbs between COCO's 17 person keypoints, with a head disk; limbs are jittered
so poses vary. Left keypoints sit on the image's right of an upright figure facing
the viewer, as a person's do, so COCO's flip map is the right one for this set: a
mirrored figure is a figure whose left and right trade names. Later figures and plain
occluding blocks hide parts of earlier ones: a hidden keypoint is labeled but not
visible (v=1); one outside the image is unlabeled (0, 0, 0), both as in COCO. The file
is laid out as ``person_keypoints_<split>.json``, so a COCO keypoint config reads it
unchanged. The same seed always writes the same files.
"""

import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .coco_keypoints import COCO_KEYPOINT_NAMES
from .synthetic_shapes import _background, _visible_polygons

# A figure facing the viewer in units of its half height, y down: COCO's keypoints
# in COCO's order; x > 0 is the figure's left.
PERSON_TEMPLATE = np.array(
    [
        (0.0, -0.78),
        (0.07, -0.84), (-0.07, -0.84),
        (0.14, -0.80), (-0.14, -0.80),
        (0.28, -0.55), (-0.28, -0.55),
        (0.42, -0.22), (-0.42, -0.22),
        (0.48, 0.08), (-0.48, 0.08),
        (0.17, 0.08), (-0.17, 0.08),
        (0.20, 0.50), (-0.20, 0.50),
        (0.22, 0.95), (-0.22, 0.95),
    ]
)  # fmt: skip
# COCO's person skeleton (0-based), the limbs drawn.
SKELETON = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
    (5, 7), (6, 8), (7, 9), (8, 10), (0, 5), (0, 6),
)  # fmt: skip
LIMB_JOINTS = (7, 8, 9, 10, 13, 14, 15, 16)  # elbows, wrists, knees, ankles
MAX_TILT = np.deg2rad(20)
FIGURE_HALF_HEIGHT = (0.2, 0.42)  # as fractions of the image side


def _figure_points(rng: np.random.Generator, size: int) -> np.ndarray:
    half = size * rng.uniform(*FIGURE_HALF_HEIGHT)
    points = PERSON_TEMPLATE.copy()
    points[list(LIMB_JOINTS)] += rng.uniform(-0.1, 0.1, (len(LIMB_JOINTS), 2))
    tilt = rng.uniform(-MAX_TILT, MAX_TILT)
    c, s = np.cos(tilt), np.sin(tilt)
    # Centres may lie near the border: some keypoints then fall outside the image.
    centre = rng.uniform(0.15 * size, 0.85 * size, 2)
    return points @ np.array([[c, s], [-s, c]]) * half + centre, half


def _draw_figure(region: np.ndarray, points: np.ndarray, half: float) -> None:
    thickness = max(2, int(round(0.12 * half)))
    for a, b in SKELETON:
        cv2.line(
            region, tuple(np.round(points[a]).astype(int)), tuple(np.round(points[b]).astype(int)),
            1, thickness,
        )  # fmt: skip
    cv2.circle(region, tuple(np.round(points[0]).astype(int)), max(2, int(0.16 * half)), 1, -1)


def render_keypoint_image(
    seed: int, index: int, image_size: Tuple[int, int] = (128, 224), max_figures: int = 3
) -> Tuple[np.ndarray, List[Dict]]:
    """Image ``index`` of set ``seed`` and its COCO annotations (no ids)."""
    rng = np.random.default_rng([seed, index, 17])
    size = int(rng.integers(image_size[0], image_size[1] + 1))
    img = _background(rng, size, size, 'detection')
    owner = np.full((size, size), -1, np.int32)
    figures = []
    for index_in_image in range(int(rng.integers(1, max_figures + 1))):
        points, half = _figure_points(rng, size)
        region = np.zeros((size, size), np.uint8)
        _draw_figure(region, points, half)
        img[region > 0] = rng.integers(0, 256, 3)
        owner[region > 0] = index_in_image
        figures.append((points, region))
    for _ in range(int(rng.integers(0, 3))):  # occluding blocks
        x0, y0 = rng.integers(0, size, 2)
        w, h = rng.integers(size // 10, size // 4, 2)
        img[y0 : y0 + h, x0 : x0 + w] = rng.integers(0, 256, 3)
        owner[y0 : y0 + h, x0 : x0 + w] = -1
    objects = []
    for index_in_image, (points, region) in enumerate(figures):
        visible = (owner == index_in_image).astype(np.uint8)
        polygons = _visible_polygons(visible, min_area=12.0)
        if not polygons:
            continue
        pixels = np.floor(points).astype(int)  # COCO keypoints are pixel indices
        inside = ((pixels >= 0) & (pixels < size)).all(1)
        keypoints = []
        for (x, y), labeled in zip(pixels, inside):
            seen = labeled and owner[y, x] == index_in_image
            keypoints += [int(x), int(y), 2 if seen else 1] if labeled else [0, 0, 0]
        ys, xs = np.nonzero(region)
        x0, y0 = float(xs.min()), float(ys.min())
        objects.append(
            dict(
                category_id=1,
                segmentation=polygons,
                area=float(visible.sum()),
                iscrowd=0,
                bbox=[x0, y0, float(xs.max()) + 1 - x0, float(ys.max()) + 1 - y0],
                keypoints=keypoints,
                num_keypoints=int(inside.sum()),
            )
        )
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), objects


def make_keypoint_set(
    root: str,
    num_images: int,
    seed: int,
    split: str,
    image_size: Tuple[int, int] = (128, 224),
    max_figures: int = 3,
) -> str:
    """Write images 0..N-1 of set ``seed`` as ``root/<split>/kp_*.png`` and
    ``root/annotations/person_keypoints_<split>.json`` (one category, ``person``, with
    COCO's keypoint names and skeleton); return the annotation file. The ``kp_``
    prefix lets the set share a folder with :func:`make_detection_set`'s images."""
    os.makedirs(osp.join(root, split), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, annotations = [], []
    for index in range(num_images):
        img, objects = render_keypoint_image(seed, index, image_size, max_figures)
        image_id, file_name = index + 1, f'kp_{index + 1:06d}.png'
        cv2.imwrite(osp.join(root, split, file_name), img)
        images.append(
            dict(id=image_id, file_name=file_name, height=img.shape[0], width=img.shape[1])
        )
        for obj in objects:
            annotations.append(dict(obj, id=len(annotations) + 1, image_id=image_id))
    category = dict(
        id=1,
        name='person',
        supercategory='person',
        keypoints=list(COCO_KEYPOINT_NAMES),
        skeleton=[[a + 1, b + 1] for a, b in SKELETON],
    )
    ann_file = osp.join(root, 'annotations', f'person_keypoints_{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=[category]), f)
    return ann_file
