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
whose ground truth is not ``ignore_index``; ``pr_c`` the predicted mask of class c, ``gt_c`` the
ground-truth mask)::

    I_i = sum_{c in C} |pr_c & gt_c & V|
    U_i = sum_{c in C} |(pr_c | gt_c) & V|
    IoU_i = I_i / U_i            (IoU_i = 1 when U_i = 0, i.e. no class of C in pred nor gt)
    nasa_iou = 100 * mean_i IoU_i

The predicted masks (``prediction``):

* ``'threshold'`` (default, NASA's definition): ``pr_c = prob_c > 0.5`` for each class on its own,
  as smp's ``IoU(threshold=0.5)`` does. A pixel may belong to no class (it then adds to the union
  only, through its ground truth) or to several. The probabilities are ``sigmoid(logits)``
  (``activation='sigmoid'``, default) because CS-UNet and our baselines train with 0.7 BCE +
  0.3 Dice on per-class sigmoids (:class:`~csunet.models.losses.BCEDiceLoss`), so a sigmoid is
  what turns their logits into the per-class probabilities that loss fits; NASA's own smp models
  end in ``softmax2d``, so use ``activation='softmax'`` for a model trained with a softmax loss.
  The logits are mmseg's ``seg_logits`` of each data sample (after slide/whole inference and the
  resize to the original image), so the metric needs a model run, not only label maps.
* ``'argmax'``: ``pr_c = (argmax_k logits_k == c)``, i.e. mmseg's ``pred_sem_seg``; every pixel
  belongs to exactly one class. Reported as ``nasa_iou_argmax`` by default.

The empty-union convention matches smp's ``(I + eps) / (U + eps)`` in the limit. The score is
averaged over images rather than over validation batches (equal for batch size 1).
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmseg.registry import METRICS

__all__ = ['NASAIoUMetric', 'pooled_intersection_union', 'predicted_masks']


PREDICTIONS = ('threshold', 'argmax')
ACTIVATIONS = ('sigmoid', 'softmax')


def pooled_intersection_union(pred: torch.Tensor,
                              gt: torch.Tensor,
                              classes: Sequence[int],
                              ignore_index: int = 255) -> tuple:
    """Intersection and union of one image, summed over ``classes``.

    Args:
        pred (Tensor): Predicted label map ``(H, W)`` (integer; one class per pixel), or
            per-class predicted masks ``(K, H, W)`` (bool; channel c is class c, a pixel may be
            in none or several).
        gt (Tensor): Ground-truth label map (H, W), integer.
        classes (Sequence[int]): Class indices to evaluate.
        ignore_index (int): Ground-truth value of pixels to leave out.

    Returns:
        tuple[float, float]: Pooled intersection and pooled union (pixel counts).
    """
    pred = torch.as_tensor(pred)
    gt = torch.as_tensor(gt).to(pred.device).long()
    masks = pred.dtype == torch.bool and pred.dim() == 3
    if pred.shape[-2:] != gt.shape[-2:] or (not masks and pred.shape != gt.shape):
        raise ValueError(f'prediction {tuple(pred.shape)} and ground truth {tuple(gt.shape)} '
                         'differ in size')
    valid = gt != ignore_index
    intersection = union = 0
    for c in classes:
        c = int(c)
        if masks:
            if c >= pred.shape[0]:
                raise ValueError(f'class {c} but only {pred.shape[0]} predicted channels')
            in_pred = pred[c] & valid
        else:
            in_pred = (pred.long() == c) & valid
        in_gt = (gt == c) & valid
        intersection += int((in_pred & in_gt).sum())
        union += int((in_pred | in_gt).sum())
    return float(intersection), float(union)


def predicted_masks(seg_logits: torch.Tensor, activation: str = 'sigmoid',
                    threshold: float = 0.5) -> torch.Tensor:
    """Per-class masks ``prob_c > threshold`` from logits ``(K, H, W)`` -> bool ``(K, H, W)``.

    A single-channel (binary) head predicts class 1: the result is ``[~fg, fg]`` with
    ``fg = sigmoid(logit) > threshold``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f'activation={activation!r}: use one of {ACTIVATIONS}')
    logits = seg_logits.float()
    if logits.shape[0] == 1:
        fg = logits[0].sigmoid() > threshold
        return torch.stack([~fg, fg])
    probs = logits.sigmoid() if activation == 'sigmoid' else logits.softmax(dim=0)
    return probs > threshold


@METRICS.register_module()
class NASAIoUMetric(BaseMetric):
    """Per-image IoU pooled over a class set, averaged over images (NASA / smp ``IoU``).

    See the module docstring for the definition and the choice of activation.

    Args:
        classes (list[int], optional): Class indices whose one-hot channels are evaluated.
            ``None`` (default) evaluates all classes: ``range(num_classes)``.
        num_classes (int, optional): Number of classes for ``classes=None``. Defaults to the
            length of ``dataset_meta['classes']``.
        ignore_index (int): Ground-truth index excluded from the evaluation. Defaults to 255.
        prediction (str): ``'threshold'`` (NASA's: each class's probability > ``threshold``,
            from ``seg_logits``) or ``'argmax'`` (mmseg's ``pred_sem_seg``).
        activation (str): ``'sigmoid'`` (per class, as CS-UNet's BCE+Dice loss) or
            ``'softmax'`` (over classes); only for ``prediction='threshold'``.
        threshold (float): Probability threshold. Defaults to 0.5 (NASA's).
        metric_name (str, optional): Name of the reported value. Defaults to ``'nasa_iou'``
            (threshold) or ``'nasa_iou_argmax'`` (argmax).
        collect_device (str): Device used to collect results across ranks. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric key (``'<prefix>/nasa_iou'``).

    The reported value is a percentage (0-100) like mmseg's ``mIoU``; it is not rounded, so that
    early stopping and best-checkpoint selection see the exact score.
    """

    def __init__(self,
                 classes: Optional[Sequence[int]] = None,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 prediction: str = 'threshold',
                 activation: str = 'sigmoid',
                 threshold: float = 0.5,
                 metric_name: Optional[str] = None,
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
        if prediction not in PREDICTIONS:
            raise ValueError(f'prediction={prediction!r}: use one of {PREDICTIONS}')
        if activation not in ACTIVATIONS:
            raise ValueError(f'activation={activation!r}: use one of {ACTIVATIONS}')
        self.ignore_index = ignore_index
        self.prediction = prediction
        self.activation = activation
        self.threshold = threshold
        self.metric_name = metric_name or (
            'nasa_iou' if prediction == 'threshold' else 'nasa_iou_argmax')

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
            if self.prediction == 'argmax':
                pred = data_sample['pred_sem_seg']['data'].squeeze(0)
            elif 'seg_logits' not in data_sample:
                raise KeyError("NASAIoUMetric(prediction='threshold') needs the model's "
                               "'seg_logits' in each data sample (mmseg's predict sets them); "
                               "use prediction='argmax' to score label maps")
            else:
                pred = predicted_masks(data_sample['seg_logits']['data'], self.activation,
                                       self.threshold)
            gt = data_sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
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
