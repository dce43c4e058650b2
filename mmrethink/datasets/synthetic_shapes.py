"""Deterministic synthetic data for the CPU mini-reproduction and the tests.

Two sets from different distributions, as in the paper's setting:

* a COCO-format instance segmentation set (the "COCO" of the demo): several shapes per
  image, varied sizes, rotations and colours, textured backgrounds, objects occluding
  each other; each instance's mask is the polygon of its *visible* region;
* a classification set (the "ImageNet" of the demo): one centred shape per image from a
  larger vocabulary, other colours and backgrounds, at a lower resolution.

The same seed always writes the same files.
"""

import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

DETECTION_SHAPES = ('circle', 'triangle', 'square', 'star')
CLASSIFICATION_SHAPES = DETECTION_SHAPES + ('hexagon', 'cross', 'ellipse', 'diamond')
SHAPE_RADIUS = (0.06, 0.28)  # a detection shape's radius, as fractions of the image side


def shape_polygon(
    shape: str, center: Tuple[float, float], radius: float, angle: float
) -> np.ndarray:
    """Vertices (N, 2) of ``shape`` around ``center``."""
    if shape == 'circle':
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        pts = np.stack([np.cos(t), np.sin(t)], 1)
    elif shape == 'ellipse':
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        pts = np.stack([np.cos(t), 0.55 * np.sin(t)], 1)
    elif shape in ('triangle', 'square', 'hexagon', 'diamond'):
        sides = dict(triangle=3, square=4, hexagon=6, diamond=4)[shape]
        t = np.arange(sides) * 2 * np.pi / sides + np.pi / sides
        pts = np.stack([np.cos(t), np.sin(t)], 1)
        if shape == 'diamond':
            pts = pts @ np.array([[0.6, 0], [0, 1.0]]) @ _rotation(np.pi / 4)
    elif shape == 'star':
        t = np.arange(10) * np.pi / 5 - np.pi / 2
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        pts = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    elif shape == 'cross':
        a, b = 1.0, 0.35
        pts = np.array(
            [
                (-b, -a),
                (b, -a),
                (b, -b),
                (a, -b),
                (a, b),
                (b, b),
                (b, a),
                (-b, a),
                (-b, b),
                (-a, b),
                (-a, -b),
                (-b, -b),
            ]
        )
    else:
        raise ValueError(f'unknown shape {shape!r}')
    return pts @ _rotation(angle) * radius + np.asarray(center)


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _background(rng: np.random.Generator, h: int, w: int, style: str) -> np.ndarray:
    if style == 'detection':  # smooth colour gradients with noise and stripes
        c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        ramp = np.linspace(0, 1, w)[None, :, None] * np.ones((h, 1, 1))
        img = c0 * (1 - ramp) + c1 * ramp
        if rng.random() < 0.5:
            period = rng.integers(6, 24)
            img += 25 * np.sin(np.arange(h) * 2 * np.pi / period)[:, None, None]
    else:  # classification: flat dark or light fields with blocky texture
        base = rng.integers(0, 80, 3) if rng.random() < 0.5 else rng.integers(170, 256, 3)
        blocks = rng.normal(0, 20, (h // 8 + 1, w // 8 + 1, 1))
        img = base + np.kron(blocks, np.ones((8, 8, 1)))[:h, :w]
    img += rng.normal(0, 8, (h, w, 1))
    return np.clip(img, 0, 255)


def _colour(rng: np.random.Generator, style: str) -> np.ndarray:
    if style == 'detection':
        return rng.integers(0, 256, 3).astype(float)
    hue = rng.integers(0, 180)  # saturated colours only
    hsv = np.uint8([[[hue, 230, rng.integers(150, 256)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(float)


def _visible_polygons(mask: np.ndarray, min_area: float) -> List[List[float]]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [
        c.reshape(-1).astype(float).tolist()
        for c in contours
        if len(c) >= 3 and cv2.contourArea(c) >= min_area
    ]


def _detection_image(
    rng: np.random.Generator, size: int, max_objects: int, radius: Tuple[float, float]
) -> Tuple[np.ndarray, List[Dict]]:
    img = _background(rng, size, size, 'detection')
    owner = np.full((size, size), -1, np.int32)
    placed = []
    for index in range(rng.integers(1, max_objects + 1)):
        label = int(rng.integers(len(DETECTION_SHAPES)))
        radius_px = size * rng.uniform(*radius)
        center = rng.uniform(radius_px * 0.5, size - radius_px * 0.5, 2)
        poly = shape_polygon(DETECTION_SHAPES[label], center, radius_px, rng.uniform(0, 2 * np.pi))
        region = np.zeros((size, size), np.uint8)
        cv2.fillPoly(region, [np.round(poly).astype(np.int32)], 1)
        img[region > 0] = _colour(rng, 'detection')
        owner[region > 0] = index  # later shapes occlude earlier ones
        placed.append(label)
    objects = []
    for index, label in enumerate(placed):
        visible = (owner == index).astype(np.uint8)
        polygons = _visible_polygons(visible, min_area=12.0)
        if not polygons:  # fully hidden
            continue
        ys, xs = np.nonzero(visible)
        x0, y0 = float(xs.min()), float(ys.min())
        objects.append(
            dict(
                category_id=label + 1,
                segmentation=polygons,
                area=float(visible.sum()),
                iscrowd=0,
                bbox=[x0, y0, float(xs.max()) + 1 - x0, float(ys.max()) + 1 - y0],
            )
        )
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), objects


def _image_generator(
    seed: int, index: int, image_size: Tuple[int, int]
) -> Tuple[np.random.Generator, int]:
    """Image ``index``'s own generator, after its first draw: the square image's side."""
    rng = np.random.default_rng([seed, index])
    return rng, int(rng.integers(image_size[0], image_size[1] + 1))


def detection_image_side(seed: int, index: int, image_size: Tuple[int, int] = (128, 224)) -> int:
    """The side of image ``index`` of set ``seed``, without rendering it."""
    return _image_generator(seed, index, image_size)[1]


def render_detection_image(
    seed: int,
    index: int,
    image_size: Tuple[int, int] = (128, 224),
    max_objects: int = 5,
    radius: Tuple[float, float] = SHAPE_RADIUS,
) -> Tuple[np.ndarray, List[Dict]]:
    """Image ``index`` of the detection set ``seed``: a function of ``(seed, index)`` only.

    Each image draws from its own generator, so any image can be rendered alone, in any
    order, by any process, and is the same every time (the files of
    :func:`make_detection_set` and the :class:`SyntheticShapesStream` agree).
    """
    rng, side = _image_generator(seed, index, image_size)
    return _detection_image(rng, side, max_objects, radius)


def make_detection_set(
    root: str,
    num_images: int,
    seed: int,
    split: str,
    image_size: Tuple[int, int] = (128, 224),
    max_objects: int = 5,
    class_names: Sequence[str] = DETECTION_SHAPES,
    radius: Tuple[float, float] = SHAPE_RADIUS,
) -> str:
    """Write images 0..N-1 of set ``seed`` as ``root/<split>/*.png`` and
    ``root/annotations/instances_<split>.json`` (image ``i`` has id ``i + 1``).

    ``class_names`` lists the file's categories; the four shapes are the first four,
    the others have no instance. With COCO's 80 names and ``split='train2017'`` a config
    made for COCO reads the set unchanged."""
    os.makedirs(osp.join(root, split), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, annotations = [], []
    for index in range(num_images):
        img, objects = render_detection_image(seed, index, image_size, max_objects, radius)
        image_id, size = index + 1, img.shape[0]
        file_name = f'{image_id:06d}.png'
        cv2.imwrite(osp.join(root, split, file_name), img)
        images.append(dict(id=image_id, file_name=file_name, height=size, width=size))
        for obj in objects:
            annotations.append(dict(obj, id=len(annotations) + 1, image_id=image_id))
    ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
    if len(class_names) < len(DETECTION_SHAPES):
        raise ValueError(f'class_names must name at least the {len(DETECTION_SHAPES)} shapes')
    categories = [dict(id=i + 1, name=n, supercategory='shape') for i, n in enumerate(class_names)]
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return ann_file


VOC_OBJECT = (
    '<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x0}</xmin>'
    '<ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>'
)


def make_voc_set(
    root: str, splits: Dict[str, Dict[str, int]], seed: int, class_names: Sequence[str]
) -> str:
    """Write a VOCdevkit at ``root``: ``splits`` maps a year folder (``'VOC2007'``) to
    ``{split: number of images}``; each image is one of set ``seed`` as a JPEG with its
    boxes in a VOC XML file, the shapes named by ``class_names`` (four VOC classes).
    Image ids are unique across years and splits, so no split shares an image."""
    index = 0
    for year, counts in splits.items():
        for sub in ('ImageSets/Main', 'Annotations', 'JPEGImages'):
            os.makedirs(osp.join(root, year, sub), exist_ok=True)
        for split, count in counts.items():
            ids = []
            for _ in range(count):
                img, objects = render_detection_image(seed, index)
                img_id = f'{index:06d}'
                index += 1
                ids.append(img_id)
                cv2.imwrite(osp.join(root, year, 'JPEGImages', f'{img_id}.jpg'), img)
                boxes = ''.join(
                    VOC_OBJECT.format(
                        name=class_names[o['category_id'] - 1],
                        x0=int(o['bbox'][0]) + 1,
                        y0=int(o['bbox'][1]) + 1,
                        x1=int(o['bbox'][0] + o['bbox'][2]),
                        y1=int(o['bbox'][1] + o['bbox'][3]),
                    )
                    for o in objects
                )
                size = img.shape[0]
                with open(osp.join(root, year, 'Annotations', f'{img_id}.xml'), 'w') as f:
                    f.write(
                        f'<annotation><size><width>{size}</width><height>{size}</height>'
                        f'<depth>3</depth></size>{boxes}</annotation>'
                    )
            with open(osp.join(root, year, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
                f.write('\n'.join(ids) + '\n')
    return root


def make_classification_set(
    root: str,
    num_images: int,
    seed: int,
    image_size: int = 64,
    shapes: Sequence[str] = CLASSIFICATION_SHAPES,
) -> str:
    """Write ``root/images.npy`` (N, H, W, 3) uint8 BGR and ``root/labels.npy``."""
    rng = np.random.default_rng(seed)
    images = np.empty((num_images, image_size, image_size, 3), np.uint8)
    labels = rng.integers(len(shapes), size=num_images)
    for i, label in enumerate(labels):
        img = _background(rng, image_size, image_size, 'classification')
        radius = image_size * rng.uniform(0.22, 0.42)
        center = image_size / 2 + rng.normal(0, image_size * 0.05, 2)
        poly = shape_polygon(shapes[label], center, radius, rng.uniform(0, 2 * np.pi))
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], _colour(rng, 'classification'))
        images[i] = np.clip(img + rng.normal(0, 6, img.shape), 0, 255)
    os.makedirs(root, exist_ok=True)
    np.save(osp.join(root, 'images.npy'), images)
    np.save(osp.join(root, 'labels.npy'), labels)
    return root
