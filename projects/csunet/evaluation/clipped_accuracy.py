"""``ClippedAccuracy``: mmpretrain's top-k accuracy for score vectors with fewer than k classes.

Registered in mmpretrain's ``METRICS`` (used by the MicroLite pretraining configs,
``configs/pretrain/``); mmpretrain is a required dependency.
"""
import torch
from mmpretrain.evaluation import Accuracy
from mmpretrain.registry import METRICS

__all__ = ['ClippedAccuracy']


@METRICS.register_module()
class ClippedAccuracy(Accuracy):
    """mmpretrain's :class:`~mmpretrain.evaluation.Accuracy`, with top-k for k >= classes.

    mmpretrain's ``Accuracy(topk=(1, 5))`` raises ``ValueError`` ("Top-5 accuracy is
    unavailable ...") on score vectors with fewer than 5 classes (small test sets, subsets of
    MicroLite). Top-k accuracy with k >= C is 1.0 by definition (every class is among the
    top k), so here k is clipped to C for the computation and the metric keeps its name
    (``accuracy/top5``). With C >= max(topk) this is exactly ``Accuracy``.
    """

    @staticmethod
    def calculate(pred, target, topk=(1, ), thrs=(0., )):
        if isinstance(pred, torch.Tensor) and pred.ndim == 2:
            topk = tuple(min(int(k), pred.size(1)) for k in topk)
        return Accuracy.calculate(pred, target, topk, thrs)
