import pytest
import torch
from mmseg.registry import MODELS

from csunet.models import CSUNetEncoder, SwinResMLP, TimmCNN

# One encoder per CNN family the paper uses.
FAMILIES = ['resnet50', 'efficientnet_b4', 'seresnext50_32x4d', 'densenet161', 'vgg16_bn',
            'mobilenetv2_100', 'inception_v4']


@pytest.mark.parametrize('model_name', FAMILIES)
def test_every_cnn_family_lands_on_the_swin_grid(model_name):
    enc = CSUNetEncoder(swin=dict(depths='intermediate'), cnn=dict(model_name=model_name)).eval()
    h, w = 161, 97  # odd: padded to 192 x 128
    with torch.no_grad():
        outs = enc(torch.randn(1, 3, h, w))
    assert len(outs) == 8
    assert [o.shape[1] for o in outs] == enc.out_channels
    for i, stride in enumerate((4, 8, 16, 32)):
        assert outs[i].shape[-2:] == (192 // stride, 128 // stride)
        assert outs[4 + i].shape[-2:] == outs[i].shape[-2:], (model_name, stride)
        assert torch.isfinite(outs[4 + i]).all()


@pytest.mark.parametrize('depths,blocks', [('original', 12), ('intermediate', 8),
                                           ((2, 2, 6, 2), 12)])
def test_depth_variants(depths, blocks):
    swin = SwinResMLP(depths=depths)
    assert sum(len(stage.blocks) for stage in swin.layers) == blocks
    assert swin.out_channels == [96, 192, 384, 768]
    assert [stage.blocks[0].attn.num_heads for stage in swin.layers] == [3, 6, 12, 24]
    assert swin.layers[0].blocks[1].shift_size == 4 and swin.layers[0].blocks[0].shift_size == 0
    outs = swin(torch.randn(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(1, 96, 16, 24), (1, 192, 8, 12), (1, 384, 4, 6),
                                              (1, 768, 2, 3)]


@pytest.mark.parametrize('size', [(32, 32), (33, 47), (100, 130), (255, 64)])
def test_any_input_size_is_padded_to_32(size):
    enc = CSUNetEncoder(swin=dict(depths=(1, 1, 1, 1), embed_dims=32, num_heads=(1, 2, 4, 8)),
                        cnn=dict(model_name='resnet18'))
    outs = enc(torch.randn(2, 3, *size))
    hp, wp = (-(-s // 32) * 32 for s in size)
    assert outs[0].shape[-2:] == (hp // 4, wp // 4)
    assert outs[3].shape[-2:] == (hp // 32, wp // 32)


def test_padding_does_not_leak_into_the_image_region_of_the_first_stage():
    # Windows are padded and masked: the stride-4 output over the image must not change when the
    # image is later embedded in a larger canvas whose extra content lies in other windows.
    swin = SwinResMLP(depths=(1, 1, 1, 1), window_size=8, drop_path_rate=0.).eval()
    x = torch.randn(1, 3, 128, 128)
    y = x.clone()
    y[..., 64:, 64:] = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        a, b = swin.layers[0](swin.patch_embed(x))[0], swin.layers[0](swin.patch_embed(y))[0]
    # Window (0, 0) of the first (non-shifted) block only sees its own 8x8 tokens; the shifted
    # block reaches 4 tokens further, so rows/cols < 8 - 4 of the top-left are untouched.
    assert torch.allclose(a[:, :4, :4], b[:, :4, :4], atol=1e-5)


def test_builds_from_registry_and_without_cnn():
    enc = MODELS.build(dict(type='CSUNetEncoder', swin=dict(depths='intermediate'), cnn=None))
    assert enc.out_channels == [96, 192, 384, 768]
    assert len(enc(torch.randn(1, 3, 64, 64))) == 4


def test_clear_errors_for_bad_configs():
    with pytest.raises(KeyError, match='not a timm model'):
        TimmCNN('resnet_does_not_exist')
    with pytest.raises(KeyError, match='depths'):
        SwinResMLP(depths='huge')
    with pytest.raises(ValueError, match='num_heads'):
        SwinResMLP(depths=(2, 2), num_heads=(3, 6, 12))
    with pytest.raises(ValueError, match='out_strides'):
        CSUNetEncoder(swin=dict(depths='intermediate'),
                      cnn=dict(model_name='resnet18', out_strides=(2, 4, 8, 16)))
    with pytest.raises(ValueError, match='multiple of 32'):
        SwinResMLP(depths='intermediate')(torch.randn(1, 3, 40, 64))
