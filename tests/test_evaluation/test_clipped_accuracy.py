"""ClippedAccuracy (mmpretrain METRICS): top-k clipped to the number of classes."""
import pytest
import torch
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _pretrain_scope():
    init_default_scope('mmpretrain')
    yield


def test_clipped_accuracy_vs_mmpretrain_accuracy():
    from mmpretrain.evaluation import Accuracy
    from mmpretrain.registry import METRICS

    from csunet.evaluation.clipped_accuracy import ClippedAccuracy
    assert METRICS.get('ClippedAccuracy') is ClippedAccuracy  # registry name kept
    pred = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.5, 0.3]])
    target = torch.tensor([0, 1, 1, 1])
    with pytest.raises(ValueError, match='Top-5 accuracy is unavailable'):
        Accuracy.calculate(pred, target, topk=(1, 5))  # mmpretrain: no clipping
    metric = METRICS.build(dict(type='ClippedAccuracy', topk=(1, 5)))
    metric.process(None, [dict(pred_score=p, gt_label=t.view(1)) for p, t in zip(pred, target)])
    assert metric.compute_metrics(metric.results) == {'top1': 50.0, 'top5': 100.0}
    big = torch.rand(6, 8)
    t = torch.randint(0, 8, (6, ))
    for a, b in zip(Accuracy.calculate(big, t, (1, 5)),
                    METRICS.get('ClippedAccuracy').calculate(big, t, (1, 5))):
        assert a[0].item() == b[0].item()  # same as Accuracy when C >= k
