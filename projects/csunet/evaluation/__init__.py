"""Evaluation metrics of csunet, registered in mmseg's ``METRICS`` registry on import."""
from .nasa_iou_metric import NASAIoUMetric, pooled_intersection_union

__all__ = ['NASAIoUMetric', 'pooled_intersection_union']
