"""Evaluation metrics of csunet, registered on import: :class:`NASAIoUMetric` in mmseg's
``METRICS``, ``ClippedAccuracy`` (MicroLite pretraining) in mmpretrain's when it is installed."""
from .clipped_accuracy import CLIPPED_ACCURACY_AVAILABLE
from .nasa_iou_metric import NASAIoUMetric, pooled_intersection_union, predicted_masks

__all__ = ['NASAIoUMetric', 'pooled_intersection_union', 'predicted_masks',
           'CLIPPED_ACCURACY_AVAILABLE']
