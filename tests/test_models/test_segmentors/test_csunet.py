"""CSUNet: the decoder's mirrored settings come from the encoder, and a mismatch fails at build."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from csunet.models import CSUNet, TimmCNN
from csunet.models.backbones import SWIN_ARCHS

REPO_ROOT = Path(__file__).resolve().parents[3]
TINY_SWIN = dict(embed_dims=32, depths=(1, 1, 2, 1), num_heads=(1, 2, 4, 8), window_size=4,
                 drop_path_rate=0.1)


def base_model(**swin):
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/models/csunet.py')).model
    cfg.backbone.swin.update(swin)
    cfg.backbone.cnn.model_name = 'resnet18'
    return cfg


def test_base_config_derives_the_decoder_from_the_arch_table():
    cfg = base_model()
    assert 'decoder_depths' not in cfg.decode_head and 'in_channels' not in cfg.decode_head
    model = MODELS.build(cfg)
    assert isinstance(model, CSUNet)
    head, arch = model.decode_head, SWIN_ARCHS['original']
    assert head.in_channels == [96, 192, 384, 768] + TimmCNN('resnet18').out_channels
    assert head.channels == arch['embed_dims']
    # Mirrored: stride 16 <- stage 2 (6 blocks, 12 heads), 8 <- stage 1, 4 <- stage 0.
    assert [len(stage.blocks) for stage in head.layers_up] == [6, 2, 2]
    assert [stage.blocks[0].attn.num_heads for stage in head.layers_up] == [12, 6, 3]
    assert all(stage.blocks[0].window_size == arch['window_size'] for stage in head.layers_up)
    # The encoder's stochastic-depth schedule (0.2 over 12 blocks), mirrored: stage 2's rates.
    rates = torch.linspace(0, arch['drop_path_rate'], 12).tolist()
    assert [b.drop_path.drop_prob for b in head.layers_up[0].blocks] == pytest.approx(rates[4:10])


def test_changing_the_encoder_in_one_place_changes_the_decoder():
    model = MODELS.build(base_model(arch='intermediate', **TINY_SWIN))
    head = model.decode_head
    assert [len(stage.blocks) for stage in head.layers_up] == [2, 1, 1]
    assert [stage.blocks[0].attn.num_heads for stage in head.layers_up] == [4, 2, 1]
    assert head.channels == 32 and head.in_channels[:4] == [32, 64, 128, 256]
    assert head.layers_up[0].blocks[0].window_size == 4
    rates = torch.linspace(0, 0.1, 5).tolist()  # encoder blocks 1+1+2+1
    assert [b.drop_path.drop_prob for b in head.layers_up[0].blocks] == pytest.approx(rates[2:4])
    out = model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 3, 64, 64)


def test_swin_unet_without_cnn_gets_four_inputs():
    cfg = base_model(**TINY_SWIN)
    cfg.backbone.cnn = None
    assert MODELS.build(cfg).decode_head.in_channels == [32, 64, 128, 256]


@pytest.mark.parametrize('key,value,encoder_value', [
    ('drop_path_rate', 0.3, '0.1'),
    ('decoder_depths', (1, 1, 1), '(2, 1, 1)'),
    ('decoder_depths', 'original', '(2, 1, 1)'),
    ('num_heads', (3, 2, 1), '(4, 2, 1)'),
    ('window_size', 8, '4'),
    ('channels', 96, '32'),
    ('bottleneck_depth', 2, '1'),
])
def test_a_decoder_that_disagrees_with_its_encoder_fails_naming_both(key, value, encoder_value):
    cfg = base_model(**TINY_SWIN)
    cfg.decode_head[key] = value
    with pytest.raises(ValueError) as err:
        MODELS.build(cfg)
    assert f'decode_head.{key}={value!r}' in str(err.value)
    assert f'the encoder gives {encoder_value}' in str(err.value)


def test_values_that_agree_are_accepted_and_in_channels_checked():
    cfg = base_model(**TINY_SWIN)
    cfg.decode_head.update(decoder_depths=[2, 1, 1], num_heads=[4, 2, 1], drop_path_rate=0.1,
                           window_size=4, channels=32, bottleneck_depth=1)
    MODELS.build(copy.deepcopy(cfg))
    cfg.decode_head.in_channels = [32, 64, 128, 256, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r'decode_head.in_channels=.*backbone.out_channels'):
        MODELS.build(cfg)


def test_plain_encoder_decoder_assembles_an_asymmetric_model():
    cfg = base_model(**TINY_SWIN)
    cfg.type = 'EncoderDecoder'
    cfg.decode_head.update(in_channels=[32, 64, 128, 256] + TimmCNN('resnet18').out_channels,
                           channels=32, decoder_depths=(3, 2, 1), num_heads=(4, 2, 1),
                           drop_path_rate=0., bottleneck_depth=1, window_size=4)
    model = MODELS.build(cfg)
    assert [len(stage.blocks) for stage in model.decode_head.layers_up] == [3, 2, 1]


def test_arch_table_rows_and_overrides():
    from csunet.models import SwinResMLP
    swin = SwinResMLP(arch='intermediate')
    assert swin.depths == SWIN_ARCHS['intermediate']['depths']
    assert swin.num_heads == SWIN_ARCHS['intermediate']['num_heads']
    assert SwinResMLP(arch='intermediate', depths=(1, 1, 1, 1)).depths == (1, 1, 1, 1)
    with pytest.raises(KeyError, match='arch='):
        SwinResMLP(arch='huge')
    with pytest.raises(KeyError, match='lacks'):
        SwinResMLP(arch=dict(depths=(2, 2, 2, 2)))
