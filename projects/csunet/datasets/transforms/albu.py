"""Albumentations for semantic segmentation, seeded by mmengine's ``randomness``.

mmseg 1.2.2 ships ``Albu`` (``mmseg/datasets/transforms/transforms.py``), but with
albumentations 2.x it falls short for the CS-UNet recipe:

* albumentations 2.x draws from its *own* generators (``Compose(seed=...)``), not from
  ``np.random``; an mmseg ``Albu`` pipeline is therefore not reproducible under
  ``randomness=dict(seed=...)`` (and a fixed ``Compose`` seed would replay the same augmentation
  stream in every dataloader worker);
* ``img_shape`` is not updated (``RandomRotate90`` on a non-square crop changes it);
* an unknown transform name ends in a bare ``AttributeError`` from ``getattr``.

:class:`AlbuSeg` builds an ``albumentations.Compose`` from config dicts (nested ``OneOf`` /
``SomeOf`` / ``Sequential`` via ``transforms=[...]``), applies it jointly to ``results['img']``
and every segmentation map in ``results['seg_fields']`` (``gt_seg_map``), masks with nearest
interpolation, and keeps ``img_shape`` in sync. Before each call every albumentations node gets
its own seed drawn from ``np.random`` -- which mmengine seeds globally and per dataloader worker
-- so a seeded run is reproducible and workers draw different streams.
"""
import copy
from typing import Sequence

import albumentations
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

__all__ = ['AlbuSeg']


def _iter_children(node):
    return list(getattr(node, 'transforms', []) or [])


@TRANSFORMS.register_module()
class AlbuSeg(BaseTransform):
    """Apply an albumentations pipeline jointly to the image and its segmentation maps.

    Required keys: ``img``, ``gt_seg_map`` (and any other key in ``seg_fields``).
    Modified keys: ``img``, ``img_shape``, the segmentation maps.

    Args:
        transforms (list[dict]): albumentations transforms as config dicts, e.g.
            ``dict(type='HorizontalFlip', p=0.5)`` or
            ``dict(type='OneOf', transforms=[dict(type='Blur', blur_limit=3, p=1)], p=0.5)``.
            ``type`` is a class name of the ``albumentations`` package (or a class).
        bgr_to_rgb (bool): albumentations expects RGB, mmseg loads BGR. When True (default),
            3-channel images are given to albumentations as RGB and turned back to BGR after.
            Only colour-specific transforms (hue, channel ops) care.
    """

    def __init__(self, transforms: Sequence[dict], bgr_to_rgb: bool = True) -> None:
        if not isinstance(transforms, (list, tuple)):
            raise TypeError(f'AlbuSeg: transforms must be a list of dicts, got '
                            f'{type(transforms).__name__}')
        self.transforms = copy.deepcopy(list(transforms))
        self.bgr_to_rgb = bgr_to_rgb
        self.aug = albumentations.Compose(
            [self._build(t) for t in self.transforms],
            mask_interpolation=cv2.INTER_NEAREST)
        self._nodes = self._collect(self.aug)

    # ------------------------------------------------------------------ building
    def _build(self, cfg: dict):
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise TypeError(f'AlbuSeg: each transform must be a dict with a "type" key, got '
                            f'{cfg!r}')
        args = dict(cfg)
        obj_type = args.pop('type')
        if isinstance(obj_type, str):
            obj_cls = getattr(albumentations, obj_type, None)
            if not isinstance(obj_cls, type):
                raise KeyError(
                    f'AlbuSeg: unknown albumentations transform {obj_type!r} (albumentations '
                    f'{albumentations.__version__} has no class of that name)')
            name = obj_type
        elif isinstance(obj_type, type):
            obj_cls, name = obj_type, obj_type.__name__
        else:
            raise TypeError(f'AlbuSeg: "type" must be a str or a class, got {obj_type!r}')
        if 'transforms' in args:
            args['transforms'] = [self._build(t) for t in args['transforms']]
        try:
            return obj_cls(**args)
        except Exception as e:  # pydantic ValidationError, TypeError, ValueError
            raise ValueError(f'AlbuSeg: cannot build albumentations.{name} with {args}: '
                             f'{e}') from e

    @staticmethod
    def _collect(root) -> list:
        nodes, stack = [], [root]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(reversed(_iter_children(node)))
        return nodes

    def _reseed(self) -> None:
        # One independent seed per node (a shared seed would couple e.g. the decisions of
        # HorizontalFlip(p=.5) and VerticalFlip(p=.5)). Parents first: set_random_seed of a
        # compose propagates to its children, which are then overwritten with their own seed.
        seeds = np.random.randint(0, 2**31 - 1, size=len(self._nodes))
        for node, seed in zip(self._nodes, seeds):
            node.set_random_seed(int(seed))

    # ------------------------------------------------------------------ applying
    def transform(self, results: dict) -> dict:
        img = results['img']
        seg_fields = list(results.get('seg_fields', []) or [])
        if 'gt_seg_map' in results and 'gt_seg_map' not in seg_fields:
            seg_fields.insert(0, 'gt_seg_map')
        rgb = self.bgr_to_rgb and img.ndim == 3 and img.shape[2] == 3
        data = dict(image=np.ascontiguousarray(img[..., ::-1]) if rgb else img)
        if seg_fields:
            data['mask'] = results[seg_fields[0]]
        if len(seg_fields) > 1:
            data['masks'] = [results[k] for k in seg_fields[1:]]
        self._reseed()
        out = self.aug(**data)
        img = out['image']
        results['img'] = np.ascontiguousarray(img[..., ::-1]) if rgb else img
        if seg_fields:
            results[seg_fields[0]] = out['mask']
        for k, m in zip(seg_fields[1:], out.get('masks', [])):
            results[k] = np.asarray(m)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transforms={self.transforms}, ' \
               f'bgr_to_rgb={self.bgr_to_rgb})'
