"""NASAIoUMetric: per-image IoU pooled over a class set, averaged over images (hand-computed)."""
from functools import partial

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.evaluation import NASAIoUMetric, pooled_intersection_union, predicted_masks

#: The argmax variant scored on label maps (the hand-computed cases below are label maps).
ArgmaxIoU = partial(NASAIoUMetric, prediction='argmax', metric_name='nasa_iou')
META = dict(classes=('matrix', 'secondary', 'tertiary'))

# Image A (2x3), one ignored pixel (255):
#   gt   = 0 1 1        pred = 0 1 0
#          2 255 0             2 1 1
# valid pixels: (0,0) p0/g0, (0,1) p1/g1, (0,2) p0/g1, (1,0) p2/g2, (1,2) p1/g0
# all classes: intersection = 3 correct pixels; union = c0 {00,02,12}=3 + c1 {01,02,12}=3
#              + c2 {10}=1 = 7  -> 3/7   (per-class mean would be (1/3+1/3+1)/3 = 5/9)
# oxide only [1]: intersection {01}=1, union 3 -> 1/3
GT_A = [[0, 1, 1], [2, 255, 0]]
PRED_A = [[0, 1, 0], [2, 1, 1]]
# Image B (2x2): everything matrix, predicted right -> all classes 4/4; class 1 absent from both
# prediction and ground truth -> empty union -> IoU 1 by definition.
GT_B = [[0, 0], [0, 0]]
PRED_B = [[0, 0], [0, 0]]


def _sample(pred, gt):
    return dict(
        pred_sem_seg=dict(data=torch.tensor([pred], dtype=torch.long)),
        gt_sem_seg=dict(data=torch.tensor([gt], dtype=torch.uint8)))


def _evaluate(metric, pairs, meta=META):
    metric.dataset_meta = meta
    metric.process({}, [_sample(p, g) for p, g in pairs])
    return metric.evaluate(len(pairs))


def test_pooled_intersection_union_by_hand():
    pred, gt = torch.tensor(PRED_A), torch.tensor(GT_A)
    assert pooled_intersection_union(pred, gt, [0, 1, 2]) == (3.0, 7.0)
    assert pooled_intersection_union(pred, gt, [1]) == (1.0, 3.0)
    assert pooled_intersection_union(pred, gt, [2]) == (1.0, 1.0)
    # the ignored pixel was predicted 1: without ignore it would join class 1's union
    assert pooled_intersection_union(pred, gt, [1], ignore_index=-1) == (1.0, 4.0)
    assert pooled_intersection_union(torch.tensor(PRED_B), torch.tensor(GT_B), [1]) == (0.0, 0.0)


def test_super_all_classes():
    result = _evaluate(ArgmaxIoU(), [(PRED_A, GT_A), (PRED_B, GT_B)])
    assert list(result) == ['nasa_iou']
    assert result['nasa_iou'] == pytest.approx(100 * (3 / 7 + 1.0) / 2)


def test_ebc_oxide_only_and_empty_union():
    result = _evaluate(ArgmaxIoU(classes=[1]), [(PRED_A, GT_A), (PRED_B, GT_B)])
    assert result['nasa_iou'] == pytest.approx(100 * (1 / 3 + 1.0) / 2)
    # prediction of oxide where there is none: union 1, intersection 0 -> 0
    result = _evaluate(ArgmaxIoU(classes=[1]), [([[0, 1]], [[0, 0]])])
    assert result['nasa_iou'] == 0.0
    # only ignored pixels: nothing to compare -> 1 (both empty)
    result = _evaluate(ArgmaxIoU(), [([[1, 2]], [[255, 255]])])
    assert result['nasa_iou'] == 100.0


def test_per_image_average_not_pooled_over_dataset():
    # image 1: 1 of 1 oxide pixel right (IoU 1); image 2: 0 of 3 (IoU 0)
    pairs = [([[1, 0, 0, 0]], [[1, 0, 0, 0]]), ([[0, 0, 0, 0]], [[1, 1, 1, 0]])]
    result = _evaluate(ArgmaxIoU(classes=[1]), pairs)
    assert result['nasa_iou'] == pytest.approx(50.0)  # dataset-pooled would be 25


def test_num_classes_prefix_and_errors():
    metric = ArgmaxIoU(num_classes=3, prefix='nasa', metric_name='iou')
    result = _evaluate(metric, [(PRED_A, GT_A)], meta=None)
    assert result == {'nasa/iou': pytest.approx(100 * 3 / 7)}
    with pytest.raises(ValueError):
        _evaluate(ArgmaxIoU(), [(PRED_A, GT_A)], meta=None)
    with pytest.raises(ValueError):
        ArgmaxIoU(classes=[])


def test_registry_and_evaluator_with_seg_data_samples():
    metric = METRICS.build(dict(type='NASAIoUMetric', classes=[1], prediction='argmax'))
    assert isinstance(metric, NASAIoUMetric)
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dict(classes=('background', 'oxide'))
    samples = []
    for pred, gt in [(PRED_A, GT_A), (PRED_B, GT_B)]:
        sample = SegDataSample()
        sample.pred_sem_seg = PixelData(data=torch.tensor([pred]))
        sample.gt_sem_seg = PixelData(data=torch.tensor([gt]))
        samples.append(sample)
    evaluator.process(samples)
    assert evaluator.evaluate(2)['nasa_iou_argmax'] == pytest.approx(100 * (1 / 3 + 1.0) / 2)


# NASA's definition: each class's sigmoid probability > 0.5 on its own. One image, 1 x 4 pixels,
# three classes; logits chosen so that sigmoid > 0.5 <=> logit > 0:
#   pixel  gt   logits (c0, c1, c2)   predicted classes
#   0      0    ( 2, -1, -1)          {0}
#   1      1    (-1, -2, -3)          {}      (no class: adds to the union only)
#   2      1    ( 1,  1, -1)          {0, 1}  (two classes)
#   3      2    (-1, -1,  3)          {2}
# all classes: I = c0 {0} + c1 {2} + c2 {3} = 3; U = c0 {0,2} 2 + c1 {1,2} 2 + c2 {3} 1 = 5
# argmax of the same logits: [0, 0, 0 (tie -> first), 2]: I = 2 (pixels 0, 3), U = c0 {0,1,2}
#   3 + c1 {1,2} 2 + c2 {3} 1 = 6
LOGITS = torch.tensor([[[2., -1., 1., -1.]], [[-1., -2., 1., -1.]], [[-1., -3., -1., 3.]]])
GT_T = [[0, 1, 1, 2]]


def _logit_sample(logits, gt):
    sample = SegDataSample()
    sample.seg_logits = PixelData(data=logits)
    sample.pred_sem_seg = PixelData(data=logits.argmax(dim=0, keepdim=True))
    sample.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return sample


def test_threshold_prediction_by_hand():
    masks = predicted_masks(LOGITS)
    assert masks[:, 0, 2].tolist() == [True, True, False] and not masks[:, 0, 1].any()
    assert pooled_intersection_union(masks, torch.tensor(GT_T), [0, 1, 2]) == (3.0, 5.0)
    metric = NASAIoUMetric()
    metric.dataset_meta = META
    metric.process({}, [_logit_sample(LOGITS, GT_T).to_dict()])
    assert metric.evaluate(1) == {'nasa_iou': pytest.approx(100 * 3 / 5)}
    argmax = NASAIoUMetric(prediction='argmax')
    argmax.dataset_meta = META
    argmax.process({}, [_logit_sample(LOGITS, GT_T).to_dict()])
    assert argmax.evaluate(1) == {'nasa_iou_argmax': pytest.approx(100 * 2 / 6)}


def test_threshold_softmax_and_binary_head():
    # softmax over classes: pixel 2's (1, 1, -1) -> 0.47 each, below 0.5: no class.
    masks = predicted_masks(LOGITS, activation='softmax')
    assert not masks[:, 0, 2].any() and masks[0, 0, 0] and masks[2, 0, 3]
    # A single-channel head predicts class 1 where sigmoid(logit) > 0.5.
    binary = predicted_masks(torch.tensor([[[-1., 2.]]]))
    assert binary.tolist() == [[[True, False]], [[False, True]]]


def test_threshold_needs_logits_and_valid_options():
    metric = NASAIoUMetric(classes=[1])
    with pytest.raises(KeyError, match='seg_logits'):
        metric.process({}, [_sample(PRED_A, GT_A)])
    with pytest.raises(ValueError, match='prediction'):
        NASAIoUMetric(prediction='mean')
    with pytest.raises(ValueError, match='activation'):
        NASAIoUMetric(activation='relu')
