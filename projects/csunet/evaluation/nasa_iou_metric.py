"""NASA's segmentation IoU (pretrained-microscopy-models) as an mmengine metric.

NASA trains and reports with ``segmentation_models_pytorch``'s ``IoU`` metric: the prediction and
the ground truth are one-hot maps over the evaluated classes, and intersection and union are
*pooled* over all those classes (``sum(gt * pr) / (sum(gt) + sum(pr) - sum(gt * pr))``). The score
of each validation image is that pooled IoU; the reported number is the mean over images.

This is different from mmseg's ``mIoU`` (per-class IoU over the whole dataset, then averaged over
classes). For the benchmarks of the CS-UNet paper:

* Super (γ' precipitates): all classes, matrix included -> ``classes=None``;
* EBC (environmental barrier coatings): the oxide layer only -> ``classes=[1]``.

Definitions used here (per image ``i``, evaluated class set ``C``, valid pixels ``V`` = pixels
whose ground truth is not ``ignore_index``)::

    I_i = sum_{c in C} |{p in V : pred(p) = c and gt(p) = c}|
    U_i = sum_{c in C} |{p in V : pred(p) = c or  gt(p) = c}|
    IoU_i = I_i / U_i            (IoU_i = 1 when U_i = 0, i.e. no class of C in pred nor gt)
    nasa_iou = 100 * mean_i IoU_i

The empty-union convention matches smp's ``(I + eps) / (U + eps)`` in the limit. Differences from
NASA's code that remain on purpose: the prediction is mmseg's argmax label map rather than a 0.5
threshold on softmax probabilities (with softmax both agree wherever one class exceeds 0.5), and
the score is averaged over images rather than over validation batches (equal for batch size 1).
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmseg.registry import METRICS

__all__ = ['NASAIoUMetric', 'pooled_intersection_union']


def pooled_intersection_union(pred: torch.Tensor,
                              gt: torch.Tensor,
                              classes: Sequence[int],
                              ignore_index: int = 255) -> tuple:
    """Intersection and union of one image, summed over ``classes``.

    Args:
        pred (Tensor): Predicted label map (H, W), integer.
        gt (Tensor): Ground-truth label map (H, W), integer.
        classes (Sequence[int]): Class indices to evaluate.
        ignore_index (int): Ground-truth value of pixels to leave out.

    Returns:
        tuple[float, float]: Pooled intersection and pooled union (pixel counts).
    """
    pred = torch.as_tensor(pred).long().reshape(-1)
    gt = torch.as_tensor(gt).to(pred.device).long().reshape(-1)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction and ground truth differ in size: {pred.numel()} vs '
                         f'{gt.numel()} pixels')
    valid = gt != ignore_index
    pred, gt = pred[valid], gt[valid]
    intersection = union = 0
    for c in classes:
        in_pred = pred == int(c)
        in_gt = gt == int(c)
        intersection += int((in_pred & in_gt).sum())
        union += int((in_pred | in_gt).sum())
    return float(intersection), float(union)


@METRICS.register_module()
class NASAIoUMetric(BaseMetric):
    """Per-image IoU pooled over a class set, averaged over images (NASA / smp ``IoU``).

    Args:
        classes (list[int], optional): Class indices whose one-hot channels are evaluated.
            ``None`` (default) evaluates all classes: ``range(num_classes)``.
        num_classes (int, optional): Number of classes for ``classes=None``. Defaults to the
            length of ``dataset_meta['classes']``.
        ignore_index (int): Ground-truth index excluded from the evaluation. Defaults to 255.
        metric_name (str): Name of the reported value. Defaults to ``'nasa_iou'``.
        collect_device (str): Device used to collect results across ranks. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric key (``'<prefix>/nasa_iou'``).

    The reported value is a percentage (0-100) like mmseg's ``mIoU``; it is not rounded, so that
    early stopping and best-checkpoint selection see the exact score.
    """

    def __init__(self,
                 classes: Optional[Sequence[int]] = None,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 metric_name: str = 'nasa_iou',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if classes is not None:
            classes = [int(c) for c in classes]
            if len(classes) == 0:
                raise ValueError('`classes` must name at least one class (or be None for all)')
            if len(set(classes)) != len(classes):
                raise ValueError(f'`classes` has duplicates: {classes}')
        self.classes: Optional[List[int]] = classes
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.metric_name = metric_name

    def _evaluated_classes(self) -> List[int]:
        if self.classes is not None:
            return self.classes
        num_classes = self.num_classes
        if num_classes is None and self.dataset_meta is not None \
                and self.dataset_meta.get('classes') is not None:
            num_classes = len(self.dataset_meta['classes'])
        if num_classes is None:
            raise ValueError('NASAIoUMetric(classes=None) needs `num_classes` or a dataset_meta '
                             'with `classes` to know which classes "all" means')
        return list(range(num_classes))

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the pooled intersection and union of every image of the batch."""
        classes = self._evaluated_classes()
        for data_sample in data_samples:
            pred = data_sample['pred_sem_seg']['data'].squeeze()
            gt = data_sample['gt_sem_seg']['data'].squeeze().to(pred.device)
            self.results.append(
                pooled_intersection_union(pred, gt, classes, self.ignore_index))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Mean over images of the pooled IoU, in percent."""
        ious = [inter / union if union > 0 else 1.0 for inter, union in results]
        score = float(np.mean(ious)) * 100 if ious else float('nan')
        logger: MMLogger = MMLogger.get_current_instance()
        logger.info(f'{self.metric_name}: {score:.4f} over {len(ious)} images '
                    f'(classes {self._evaluated_classes()})')
        return OrderedDict({self.metric_name: score})
