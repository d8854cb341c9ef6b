"""Published CS-UNet results: the one home of the paper's numbers (README and tables read it).

Best CS-UNet IoU (%) of Alrfou, Zhao, Kordijazi (2023), Table "best IoU", on NASA's benchmark
splits, with the encoders pretrained on micrographs (MicroNet CNN + MicroLite Swin-T) and on
ImageNet. The metric is NASA's IoU (:class:`~csunet.evaluation.NASAIoUMetric`).
"""
from typing import Dict, Optional

#: split -> {'microscopy': IoU %, 'imagenet': IoU %}
PUBLISHED_CSUNET_IOU: Dict[str, Dict[str, float]] = {
    'super1': dict(microscopy=96.43, imagenet=96.22),
    'super2': dict(microscopy=96.06, imagenet=96.03),
    'super3': dict(microscopy=93.5, imagenet=87.01),
    'super4': dict(microscopy=82.13, imagenet=78.89),
    'ebc1': dict(microscopy=97.66, imagenet=98.0),
    'ebc2': dict(microscopy=92.82, imagenet=92.0),
    'ebc3': dict(microscopy=70.46, imagenet=61.74),
}


def published_iou(split: Optional[str]) -> Optional[Dict[str, float]]:
    """The published IoUs of a split name (``'super1'``, ``'ebc3'``, ...), or None."""
    return PUBLISHED_CSUNET_IOU.get((split or '').lower())
