"""Fail early, and clearly, on segmentation maps with unexpected label values."""
from typing import Iterable, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Raise ``ValueError`` when ``gt_seg_map`` holds a value outside the allowed set.

    Place it right after ``LoadAnnotations`` (which has already applied the data set's
    ``label_map``).

    Pure inference passes through: mmseg's ``inference_model`` and ``MMSegInferencer`` delete
    ``LoadAnnotations`` from the test pipeline and feed ``dict(img_path=...)`` or
    ``dict(img=...)``, which carry no ``seg_map_path``; such results are returned unchanged.
    Results from a data set always carry ``seg_map_path``, so a ``CheckSegLabels`` placed
    *before* ``LoadAnnotations`` in a training/test pipeline still raises.

    Allowed values are ``allowed_values`` if given, else ``0 .. num_classes-1`` plus
    ``ignore_index``; ``num_classes`` falls back to ``results['num_classes']``, which
    :class:`~csunet.datasets.SuperDataset` and :class:`~csunet.datasets.EBCDataset` put in each
    data info.

    Args:
        num_classes (int, optional): number of classes.
        ignore_index (int): the ignore label, always allowed. Defaults to 255.
        allowed_values (Iterable[int], optional): explicit allowed set (overrides the above).
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 allowed_values: Optional[Iterable[int]] = None) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.allowed_values = None if allowed_values is None else sorted(
            int(v) for v in allowed_values)

    def _allowed(self, results: dict) -> list:
        if self.allowed_values is not None:
            return self.allowed_values
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = results.get('num_classes')
        if num_classes is None:
            raise ValueError('CheckSegLabels needs num_classes (argument, or `num_classes` in '
                             'the data info as set by SuperDataset/EBCDataset)')
        return list(range(int(num_classes))) + [self.ignore_index]

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' not in results:
            if results.get('seg_map_path') is None:
                return results  # inference on an image alone: no label to check
            raise ValueError(f"CheckSegLabels: no gt_seg_map in results for "
                             f"{results['seg_map_path']}; place it after LoadAnnotations")
        seg = results['gt_seg_map']
        allowed = self._allowed(results)
        values = np.unique(np.asarray(seg)).astype(np.int64)
        bad = np.setdiff1d(values, np.asarray(allowed, dtype=np.int64))
        if bad.size:
            raise ValueError(
                f"Unknown label values {bad.tolist()} in seg map "
                f"{results.get('seg_map_path', '<unknown file>')}: allowed are {allowed} "
                '(classes + ignore index, after the data set label_map)')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, allowed_values={self.allowed_values})')
