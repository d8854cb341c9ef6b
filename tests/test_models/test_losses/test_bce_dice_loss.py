import math

import pytest
import torch
from mmseg.registry import MODELS

from csunet.models import BCEDiceLoss


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def bce(logit, target):
    p = sigmoid(logit)
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_hand_computed_value_with_ignored_pixel():
    # 1 image, 2 classes, 1 x 3 pixels; the last pixel is ignored.
    logits = torch.tensor([[[[2., -1., 5.]], [[0., 1., -3.]]]])
    label = torch.tensor([[[0, 1, 255]]])
    loss = BCEDiceLoss()(logits, label, ignore_index=255)
    # valid pixels: p0 (class 0), p1 (class 1); one-hot targets per channel:
    terms = [bce(2., 1), bce(-1., 0), bce(0., 0), bce(1., 1)]
    expected_bce = sum(terms) / 4
    probs = [sigmoid(2.), sigmoid(-1.), sigmoid(0.), sigmoid(1.)]
    targets = [1, 0, 0, 1]
    inter = sum(p * t for p, t in zip(probs, targets))
    expected_dice = 1 - (2 * inter + 1) / (sum(probs) + sum(targets) + 1)
    expected = 0.7 * expected_bce + 0.3 * expected_dice
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_ignored_pixels_change_nothing():
    logits = torch.randn(2, 3, 4, 5)
    label = torch.randint(0, 3, (2, 4, 5))
    loss_fn = BCEDiceLoss(bce_weight=0.5, dice_weight=0.5, loss_weight=2.)
    base = loss_fn(logits, label)
    label2 = label.clone()
    label2[:, :, -1] = 255
    logits2 = logits.clone()
    logits2[..., -1] = 1e3  # garbage where ignored
    restricted = loss_fn(logits[..., :-1], label[..., :-1])
    assert loss_fn(logits2, label2).item() == pytest.approx(restricted.item(), rel=1e-6)
    assert base.item() != pytest.approx(restricted.item())


def test_weights_and_single_channel_binary():
    logits = torch.tensor([[[[3., -2.]]]])  # (1, 1, 1, 2): one sigmoid channel
    label = torch.tensor([[[1, 0]]])
    loss = BCEDiceLoss(bce_weight=1., dice_weight=0.)(logits, label)
    assert loss.item() == pytest.approx((bce(3., 1) + bce(-2., 0)) / 2, rel=1e-6)
    dice_only = BCEDiceLoss(bce_weight=0., dice_weight=1., smooth=0.)(logits, label)
    p = [sigmoid(3.), sigmoid(-2.)]
    assert dice_only.item() == pytest.approx(1 - 2 * p[0] / (p[0] + p[1] + 1), rel=1e-6)


def test_class_weight_and_class_balanced():
    logits = torch.zeros(1, 2, 1, 4)
    label = torch.tensor([[[0, 0, 0, 1]]])
    # all logits 0 -> every BCE term is log 2
    weighted = BCEDiceLoss(bce_weight=1., dice_weight=0., class_weight=[1., 3.])(logits, label)
    assert weighted.item() == pytest.approx(math.log(2) * (4 * 1 + 4 * 3) / 8, rel=1e-6)
    balanced = BCEDiceLoss(bce_weight=1., dice_weight=0., class_balanced=True)(logits, label)
    # class 0: 3 positives, 1 negative -> positives weighted 1/3; class 1: 1 pos, 3 neg -> 3
    expected = math.log(2) * ((3 * (1 / 3) + 1) + (1 * 3 + 3)) / 8
    assert balanced.item() == pytest.approx(expected, rel=1e-6)


def test_registry_name_and_errors():
    loss = MODELS.build(dict(type='BCEDiceLoss', loss_name='loss_micro'))
    assert loss.loss_name == 'loss_micro'
    with pytest.raises(ValueError, match="start with 'loss_'"):
        BCEDiceLoss(loss_name='bce_dice')
    with pytest.raises(ValueError, match='num_classes'):
        BCEDiceLoss()(torch.zeros(1, 2, 1, 1), torch.tensor([[[4]]]))


def test_gradient_flows():
    logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    BCEDiceLoss(class_balanced=True)(logits, torch.randint(0, 3, (2, 8, 8))).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
