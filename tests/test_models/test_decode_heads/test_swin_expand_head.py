import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from csunet.models import SwinExpandDecoder


def make_samples(n, h, w, num_classes=3):
    samples = []
    for _ in range(n):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w)))
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        samples.append(s)
    return samples


@pytest.fixture
def model(tiny_csunet_cfg):
    model = MODELS.build(tiny_csunet_cfg())
    model.init_weights()
    return model


def test_decoder_structure_follows_swin_unet():
    head = SwinExpandDecoder(in_channels=[96, 192, 384, 768, 256, 512, 1024, 2048],
                             decoder_depths=(6, 2, 2), num_classes=3)
    assert head.bottleneck_expand.expand.in_features == 768 + 2048
    assert [lin.in_features for lin in head.concat_linears] == [
        2 * 384 + 1024, 2 * 192 + 512, 2 * 96 + 256]
    assert [lin.out_features for lin in head.concat_linears] == [384, 192, 96]
    assert [len(layer.blocks) for layer in head.layers_up] == [6, 2, 2]
    assert not hasattr(head.layers_up[2], 'upsample')
    assert head.final_expand.scale == 4
    assert head.conv_seg.in_channels == 96 and head.conv_seg.out_channels == 3


def test_forward_modes(model):
    x = torch.randn(2, 3, 70, 90)
    losses = model(x, make_samples(2, 70, 90), mode='loss')
    assert set(losses) == {'decode.loss_bce_dice', 'decode.acc_seg'}
    assert losses['decode.loss_bce_dice'].requires_grad
    model.eval()
    with torch.no_grad():
        results = model(x, make_samples(2, 70, 90), mode='predict')
        logits = model(x, mode='tensor')
    model.train()
    assert results[0].seg_logits.data.shape == (3, 70, 90)
    assert results[0].pred_sem_seg.data.shape == (1, 70, 90)
    # tensor mode: logits on the encoder's padded grid (multiples of 32)
    assert logits.shape == (2, 3, 96, 96)
    # predict == the top-left crop of the padded logits (a crop, not a resize)
    torch.testing.assert_close(results[1].seg_logits.data, logits[1, :, :70, :90])


def test_swin_unet_decoder_is_the_csunet_decoder_with_zero_cnn_columns():
    """With 4 inputs the decoder is exactly CS-UNet's decoder whose CNN columns (in
    the bottleneck expansion and the concat linears) are zero, for any CNN maps; no CNN width
    leaks into its layers."""
    swin, cnn = [32, 64, 128, 256], [8, 16, 24, 40]
    kwargs = dict(channels=32, num_heads=(4, 2, 1), decoder_depths=(1, 1, 1), bottleneck_depth=1,
                  drop_path_rate=0., num_classes=2, loss_decode=dict(type='BCEDiceLoss'))
    plain = SwinExpandDecoder(in_channels=swin, **kwargs).eval()
    fused = SwinExpandDecoder(in_channels=swin + cnn, **kwargs).eval()
    assert plain.bottleneck_expand.expand.in_features == 256
    assert [lin.in_features for lin in plain.concat_linears] == [2 * 128, 2 * 64, 2 * 32]
    # The fused decoder with the plain one's weights and zeros for every CNN input column.
    state = {}
    for name, value in plain.state_dict().items():
        target = fused.state_dict()[name]
        if target.shape != value.shape:  # a linear that also reads the CNN map
            value = torch.cat([value, value.new_zeros(value.shape[0],
                                                      target.shape[1] - value.shape[1])], 1)
        state[name] = value
    fused.load_state_dict(state)
    feats = [torch.randn(1, c, 32 // s, 32 // s) for c, s in zip(swin, [1, 2, 4, 8])]
    cnn_maps = [torch.randn(1, c, 32 // s, 32 // s) for c, s in zip(cnn, [1, 2, 4, 8])]
    with torch.no_grad():
        out = plain(feats)
        assert out.shape == (1, 2, 128, 128)
        torch.testing.assert_close(fused(feats + cnn_maps), out)
        # ...and the CNN maps do reach the fused decoder once its columns are not zero.
        fused.concat_linears[2].weight.data[:, -8:] = 1.
        assert not torch.allclose(fused(feats + cnn_maps), out)


def swin_unet_reference(swin, head, x):
    """Swin-Unet (Cao et al. 2021) written out step by step in the official code's order
    (``forward_features`` + ``forward_up_features`` + ``up_x4``), on the given encoder and
    decoder layers; none of CSUNetEncoder's or SwinExpandDecoder's own forward code runs."""
    h, w = x.shape[-2:]
    skips = [f.permute(0, 2, 3, 1) for f in swin(F.pad(x, (0, -w % 32, 0, -h % 32)))]
    y = head.bottleneck_expand(skips[3])
    for i, level in enumerate((2, 1, 0)):
        y = head.concat_linears[i](torch.cat([y, skips[level]], dim=-1))
        for block in head.layers_up[i].blocks:
            y = block(y)
        if level > 0:
            y = head.layers_up[i].upsample(y)
    y = head.final_expand(head.norm_up(y))
    return head.conv_seg(y.permute(0, 3, 1, 2))[..., :h, :w]


def test_without_cnn_is_a_swin_unet(tiny_csunet_cfg):
    """CS-UNet with ``backbone.cnn=None`` (the Swin-Unet baseline) has no CNN parameter, no CNN
    width in its decoder, and its logits are those of Swin-Unet on its Swin weights."""
    model = MODELS.build(tiny_csunet_cfg(cnn=None)).eval()
    assert model.backbone.cnn is None
    assert not [n for n, _ in model.named_parameters() if 'cnn' in n]
    head, swin = model.decode_head, model.backbone.swin
    widths = swin.out_channels
    assert head.in_channels == list(widths)
    assert head.bottleneck_expand.expand.in_features == widths[3]
    assert [lin.in_features for lin in head.concat_linears] == [2 * widths[i] for i in (2, 1, 0)]
    x = torch.randn(1, 3, 70, 90)
    with torch.no_grad():
        assert len(model.backbone(x)) == 4
        got = model(x, make_samples(1, 70, 90), mode='predict')[0].seg_logits.data
        ref = swin_unet_reference(swin, head, x)[0]
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


def test_config_errors():
    with pytest.raises(ValueError, match='4 Swin'):
        SwinExpandDecoder(in_channels=[96, 192], num_classes=2)
    with pytest.raises(KeyError, match='in_index'):
        SwinExpandDecoder(in_channels=[96, 192, 384, 768], num_classes=2, in_index=[0])
    with pytest.raises(ValueError, match='channels'):
        SwinExpandDecoder(in_channels=[96, 192, 384, 768], channels=64, num_classes=2)


def test_slide_agrees_with_whole_where_it_must(model):
    """Slide inference equals whole inference (a) when one window covers the image, (b) on each
    window of a non-overlapping tiling, against whole inference on that window alone, and (c) with
    overlapping windows, the mean over the windows covering each pixel of their whole inference."""
    model.eval()

    def predict(x, test_cfg):
        model.test_cfg = ConfigDict(test_cfg)
        with torch.no_grad():
            return model(x, make_samples(1, *x.shape[-2:]), mode='predict')[0]

    x = torch.randn(1, 3, 100, 120)
    whole = predict(x, dict(mode='whole'))
    one_window = predict(x, dict(mode='slide', crop_size=(128, 128), stride=(64, 64)))
    torch.testing.assert_close(one_window.seg_logits.data, whole.seg_logits.data)
    assert torch.equal(one_window.pred_sem_seg.data, whole.pred_sem_seg.data)

    x = torch.randn(1, 3, 64, 128)
    tiled = predict(x, dict(mode='slide', crop_size=(64, 64), stride=(64, 64)))
    for cols in (slice(0, 64), slice(64, 128)):
        alone = predict(x[..., cols].contiguous(), dict(mode='whole'))
        torch.testing.assert_close(tiled.seg_logits.data[..., cols], alone.seg_logits.data)
    # the tiles differ from whole-image inference (context crosses the tile border), so the
    # comparison above is not vacuous
    assert not torch.allclose(tiled.seg_logits.data, predict(x, dict(mode='whole')).seg_logits.data)

    # Windows of 40 x 56 (not multiples of 32: each is padded inside the encoder) every 24 x 28
    # pixels, the last one in each direction moved back to end at the border.
    (h, w), (ch, cw), (sh, sw) = (70, 90), (40, 56), (24, 28)
    x = torch.randn(1, 3, h, w)
    slid = predict(x, dict(mode='slide', crop_size=(ch, cw), stride=(sh, sw))).seg_logits.data
    total, count = torch.zeros_like(slid), torch.zeros(h, w)
    for top in (0, 24, 30):
        for left in (0, 28, 34):
            window = x[..., top:top + ch, left:left + cw].contiguous()
            total[:, top:top + ch, left:left + cw] += predict(
                window, dict(mode='whole')).seg_logits.data
            count[top:top + ch, left:left + cw] += 1
    # every pixel is covered; rows 30-39 x columns 34-55 lie in all 3 x 3 windows
    assert count.min() >= 1 and count.max() == 9
    torch.testing.assert_close(slid, total / count, rtol=1e-4, atol=1e-5)
    model.train()
