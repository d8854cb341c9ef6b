"""HiFormerHead: the official decoder's layers and wiring, cropping, loss and errors."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from csunet.models.decode_heads import HiFormerHead

HEAD = dict(in_channels=(16, 64), channels=8, mid_channels=16, num_groups=4, num_classes=3,
            loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3))


def test_layers_of_the_official_decoder():
    head = HiFormerHead(num_classes=9, loss_decode=dict(type='CrossEntropyLoss'))
    # ConvUp_l: conv (no bias) -> GN -> ReLU; ConvUp_s: twice that with 2x upsampling.
    assert [type(m).__name__ for m in head.up_low] == ['Conv2d', 'GroupNorm', 'ReLU']
    assert [type(m).__name__ for m in head.up_high] == [
        'Conv2d', 'GroupNorm', 'ReLU', 'Upsample'] * 2
    assert head.up_low[0].bias is None and head.up_low[0].in_channels == 96
    assert head.up_high[0].in_channels == 384 and head.up_high[4].in_channels == 128
    assert head.up_high[1].num_groups == 32
    assert head.conv_pred[0].kernel_size == (1, 1) and head.conv_pred[2].scale_factor == 4
    assert head.conv_seg.kernel_size == (3, 3) and head.conv_seg.bias is not None
    # The official decoder's 704,553 parameters at 9 classes; mmseg adds none.
    assert sum(p.numel() for p in head.parameters()) == 704_553
    assert head.dropout is None


def test_forward_by_hand():
    head = HiFormerHead(**HEAD).eval()
    low, high = torch.randn(2, 16, 12, 8), torch.randn(2, 64, 3, 2)
    with torch.no_grad():
        out = head((low, high))
        x = head.up_low(low) + head.up_high(high)
        x = F.interpolate(torch.relu(head.conv_pred[0](x)), scale_factor=4, mode='bilinear',
                          align_corners=False)
        ref = head.conv_seg(x)
    assert out.shape == (2, 3, 48, 32)
    torch.testing.assert_close(out, ref)


def test_mismatched_strides_and_config_errors():
    head = HiFormerHead(**HEAD)
    with pytest.raises(ValueError, match='strides 4 and 16'):
        head((torch.randn(1, 16, 12, 8), torch.randn(1, 64, 2, 2)))
    with pytest.raises(KeyError, match='in_index'):
        HiFormerHead(**HEAD, in_index=0)
    with pytest.raises(ValueError, match='stride-4 and stride-16'):
        HiFormerHead(**{**HEAD, 'in_channels': (16, 32, 64)})


def test_loss_and_prediction_crop_the_padded_grid():
    head = HiFormerHead(**HEAD)
    logits = torch.randn(2, 3, 48, 32, requires_grad=True)
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 45, 30)))
        samples.append(s)
    losses = head.loss_by_feat(logits, samples)
    losses['loss_bce_dice'].backward()
    # Only the kept 45 x 30 region takes part.
    assert logits.grad[..., 45:, :].abs().sum() == 0 and logits.grad[..., 30:].abs().sum() == 0
    assert logits.grad[..., :45, :30].abs().sum() > 0
    pred = head.predict_by_feat(logits.detach(), [dict(img_shape=(45, 30))] * 2)
    torch.testing.assert_close(pred, logits.detach()[..., :45, :30])
    assert isinstance(head.conv_seg, nn.Conv2d)
