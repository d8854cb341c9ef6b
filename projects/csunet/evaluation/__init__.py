"""Evaluation metrics of csunet, registered on import: :class:`NASAIoUMetric` and
:class:`ClassIoUMetric` in mmseg's ``METRICS``, ``ClippedAccuracy`` (MicroLite pretraining) in
mmpretrain's; the paper's published numbers (:mod:`.published`)."""
from .class_iou_metric import ClassIoUMetric
from .clipped_accuracy import ClippedAccuracy
from .nasa_iou_metric import NASAIoUMetric, pooled_intersection_union, predicted_masks
from .published import PUBLISHED_CSUNET_IOU, published_iou

__all__ = ['NASAIoUMetric', 'ClassIoUMetric', 'pooled_intersection_union', 'predicted_masks',
           'ClippedAccuracy', 'PUBLISHED_CSUNET_IOU', 'published_iou']
