"""mmseg's ``IoUMetric`` that also *returns* the per-class IoU (mmseg only logs it as a table)."""
from collections import OrderedDict
from typing import Dict, List

import torch
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class ClassIoUMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` plus one ``IoU.<class>`` value (%) per class.

    mmseg's metric prints the per-class table to the log and returns only ``aAcc``/``mIoU``/...,
    so per-class IoU never reaches the result dict that ``Runner.test()`` returns, the JSON log or
    hooks. This subclass adds them (same definition: intersection over union over the whole data
    set, NaN for a class absent from prediction and ground truth), so tables such as
    ``tools/misc/results_table.py`` read them from the result rather than parse the log. Same
    arguments as ``IoUMetric``.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        intersect = torch.stack([r[0] for r in results]).sum(0).double()
        union = torch.stack([r[1] for r in results]).sum(0).double()
        iou = (intersect / union * 100).tolist()  # NaN where the union is empty, as mmseg
        classes: List[str] = list(self.dataset_meta['classes'])
        out = OrderedDict(metrics)
        out.update((f'IoU.{name}', round(value, 2)) for name, value in zip(classes, iou))
        return out
