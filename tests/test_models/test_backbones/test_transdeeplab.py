"""TransDeepLab (encoder + Swin spatial pyramid + decoder): parameter counts of the official models,
wiring, Swin-T checkpoint loading, gradients, input sizes and the leaf config."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from csunet.models.backbones import TRANSDEEPLAB_SPP_224, TransDeepLabEncoder
from csunet.models.backbones.transdeeplab import CBAMProjection, SwinSPP
from csunet.models.decode_heads import TransDeepLabHead
from csunet.models.utils import PretrainedLoadError
from csunet.models.utils.swin_convert import interpolate_relative_position_bias_table

REPO_ROOT = Path(__file__).resolve().parents[3]

#: Parameters of the official SwinDeepLab (rezazad68/transdeeplab, model/configs/
#: swin_224_7_{1..4}level.py: 224², window 7, 9 classes), counted by running the official code,
#: with the encoder depths (2, 2, 6) as released and (2, 2, 2) (EncoderConfig.depths changed).
OFFICIAL_PARAMS = {
    (2, 2, 6): {1: 17_483_142, 2: 21_143_676, 3: 24_852_402, 4: 28_610_232},
    (2, 2, 2): {1: 10_377_174, 2: 14_037_708, 3: 17_746_434, 4: 21_504_264},
}

#: A small TransDeepLab for fast tests.
TINY = dict(embed_dims=16, num_heads=(1, 2, 4), depths=(1, 1, 2), window_size=4,
            spp_window_sizes=(2, 4), spp_depths=(2, 1), spp_num_heads=2)
TINY_HEAD = dict(in_channels=(16, 16), channels=32, depth=1, last_layer_depth=2, num_heads=1,
                 window_size=4, num_classes=3,
                 loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3))
TINY_NO_DEPTHS = {k: v for k, v in TINY.items() if k != 'depths'}


def n_params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def tiny_segmentor(size_divisor=1, **backbone):
    """``size_divisor=1``: batches are not padded, the model must cope with the size itself."""
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                               seg_pad_val=255, size_divisor=size_divisor),
        backbone=dict(type='TransDeepLabEncoder', **{**TINY, **backbone}),
        decode_head=dict(type='TransDeepLabHead', **TINY_HEAD),
        test_cfg=ConfigDict(mode='whole')))
    model.init_weights()
    return model


def make_batch(sizes, num_classes=3):
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8))
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w)))
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w)))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


# -- parameter counts ------------------------------------------------------------------------


@pytest.mark.parametrize('depths', [(2, 2, 6), (2, 2, 2)])
@pytest.mark.parametrize('levels', [1, 2, 3, 4])
def test_parameter_counts_equal_the_official_models(depths, levels):
    enc = TransDeepLabEncoder(depths=depths, window_size=7, **TRANSDEEPLAB_SPP_224[levels])
    head = TransDeepLabHead(num_classes=9, window_size=7,
                            loss_decode=dict(type='CrossEntropyLoss'))
    # mmseg adds nothing: conv_seg is bias-free like the official classifier, the loss has none.
    assert not any(True for _ in head.loss_decode.parameters())
    assert head.conv_seg.bias is None
    assert n_params(enc, head) == OFFICIAL_PARAMS[depths][levels]


def test_depths_by_variant_name():
    assert TransDeepLabEncoder(depths='original', **TINY_NO_DEPTHS).depths == (2, 2, 6)
    assert TransDeepLabEncoder(depths='intermediate', **TINY_NO_DEPTHS).depths == (2, 2, 2)
    with pytest.raises(ValueError, match='3 depths'):
        TransDeepLabEncoder(depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24))
    with pytest.raises(ValueError, match='one depth per window size'):
        SwinSPP(16, 8, window_sizes=(2, 4), depths=(1, ))


# -- wiring ----------------------------------------------------------------------------------


def test_cbam_projection_on_hand_built_weights():
    """Zero attention MLP and zero spatial conv give 0.5 * 0.5 attention: out = 1.25 x."""
    cbam = CBAMProjection(in_dim=24, out_dim=24, reduction=12)
    for p in list(cbam.ca.parameters()) + list(cbam.sa.parameters()):
        nn.init.zeros_(p)
    with torch.no_grad():
        cbam.proj.weight.copy_(torch.eye(24))
        cbam.proj.bias.zero_()
    x = torch.randn(2, 3, 5, 24)
    torch.testing.assert_close(cbam(x), 1.25 * x)
    # The spatial attention pools the *channel* max and mean: a one-hot spatial conv on the max
    # makes the attention depend on the position.
    with torch.no_grad():
        cbam.sa.conv.weight.copy_(torch.tensor([1., 0.]).view(1, 2, 1, 1))
    x = torch.zeros(1, 2, 2, 24)
    x[0, 0, 0, 5] = 4.
    expected = x * 0.5 * torch.sigmoid(x.amax(-1, keepdim=True) * 0.5) + x
    torch.testing.assert_close(cbam(x), expected)


def test_swin_spp_concatenates_levels_in_order():
    spp = SwinSPP(8, 4, window_sizes=(1, 2, 4), depths=(2, 2, 1), num_heads=2, dropout=0.)
    spp.eval()
    assert [len(layer.blocks) for layer in spp.layers] == [2, 2, 1]
    assert [layer.blocks[0].window_size for layer in spp.layers] == [1, 2, 4]
    assert spp.proj.proj.in_features == 24
    x = torch.randn(2, 4, 4, 8)
    cat = torch.cat([layer.forward_blocks(x) for layer in spp.layers], dim=-1)
    torch.testing.assert_close(spp(x), torch.relu(spp.proj(cat)))


def test_encoder_outputs_low_level_and_pyramid():
    enc = TransDeepLabEncoder(**TINY).eval()
    x = torch.randn(2, 3, 64, 96)
    low, pyramid = enc(x)
    assert low.shape == (2, 16, 16, 24) and pyramid.shape == (2, 16, 4, 6)
    # By hand: stage 0's block output + its own LayerNorm; the pyramid on stage 2's block output
    # (patch merging after stages 0 and 1 only).
    t = enc.patch_embed(x)
    s0 = enc.layers[0].forward_blocks(t)
    s1 = enc.layers[1].forward_blocks(enc.layers[0].downsample(s0))
    s2 = enc.layers[2].forward_blocks(enc.layers[1].downsample(s1))
    assert not hasattr(enc.layers[2], 'downsample')
    torch.testing.assert_close(low, enc.low_level_norm(s0).permute(0, 3, 1, 2))
    torch.testing.assert_close(pyramid, enc.spp(s2).permute(0, 3, 1, 2))
    assert enc.out_channels == [16, 16]


def test_blocks_use_swin_mlp_and_official_drop_path():
    enc = TransDeepLabEncoder(**TINY, drop_path_rate=0.3, spp_drop_path_rate=0.2)
    for layer in enc.layers:
        for block in layer.blocks:
            assert set(dict(block.mlp.named_children())) >= {'fc1', 'fc2'}
            assert not hasattr(block.mlp, 'fc3')

    # Encoder: linear over its 4 blocks; pyramid: one rate for every block.
    def rate(block):  # a zero rate is an Identity
        return getattr(block.drop_path, 'drop_prob', 0.)

    assert [rate(b) for layer in enc.layers for b in layer.blocks] == pytest.approx(
        [0., 0.1, 0.2, 0.3])
    assert {rate(b) for layer in enc.spp.layers for b in layer.blocks} == {0.2}


# -- Swin-T checkpoints ----------------------------------------------------------------------


@pytest.mark.parametrize('window', [7, 8])
def test_encoder_loads_microsoft_swin_t(tmp_path, window, microsoft_swin_checkpoint):
    src = microsoft_swin_checkpoint(tmp_path / 'swin_t.pth')
    enc = TransDeepLabEncoder(**{**TINY, 'depths': (2, 2, 6), 'window_size': window},
                              init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path /
                                                                              'swin_t.pth')))
    spp_before = {k: v.clone() for k, v in enc.spp.state_dict().items()}
    enc.init_weights()
    report = enc.pretrained_report
    assert report.loaded_ratio == 1. and not report.missing and not report.mismatched
    # What TransDeepLab has no use for: Swin-T's last patch merging, stage 3 and final norm.
    unused = ('layers.2.downsample.', 'layers.3.', 'norm3.')
    assert all(k.startswith(unused) for k in report.unexpected)
    assert all(any(k.startswith(u) for k in report.unexpected) for u in unused)
    state = enc.state_dict()
    for k, v in src.items():
        if k.startswith(('layers.3', 'layers.2.downsample', 'norm.', 'head.')) or 'index' in k:
            continue
        if k.endswith('relative_position_bias_table'):
            v = interpolate_relative_position_bias_table(v, window)
        assert torch.equal(state[k], v), k
    # The parts Swin-T lacks keep their initialisation.
    for k, v in enc.spp.state_dict().items():
        assert torch.equal(v, spp_before[k]), k


def test_intermediate_encoder_loads_swin_t(tmp_path, microsoft_swin_checkpoint):
    microsoft_swin_checkpoint(tmp_path / 'swin_t.pth')
    enc = TransDeepLabEncoder(**{**TINY, 'depths': (2, 2, 2), 'window_size': 7},
                              init_cfg=dict(type='Pretrained',
                                            checkpoint=str(tmp_path / 'swin_t.pth')))
    enc.init_weights()
    report = enc.pretrained_report
    assert report.loaded_ratio == 1.
    assert {k.split('.mlp')[0].split('.attn')[0].split('.norm')[0] for k in report.unexpected
            if k.startswith('layers.2.blocks')} == {f'layers.2.blocks.{j}' for j in range(2, 6)}


def test_encoder_loads_converted_csunet_file_with_prefix(tmp_path):
    """A file made by swin2csunet.py --out-prefix backbone.swin. (ResMLP fc3 included)."""
    donor = TransDeepLabEncoder(**TINY)
    state = {f'backbone.swin.{k}': v for k, v in donor.pretrained_target().state_dict().items()}
    state.update({f'backbone.swin.layers.0.blocks.0.mlp.fc3.{n}': torch.zeros(16)
                  for n in ('weight', 'bias')})
    torch.save({'state_dict': state}, tmp_path / 'conv.pth')
    enc = TransDeepLabEncoder(**TINY, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'conv.pth'), prefix='backbone.swin.'))
    enc.init_weights()
    assert enc.pretrained_report.loaded_ratio == 1.
    assert enc.pretrained_report.unexpected == ['layers.0.blocks.0.mlp.fc3.bias',
                                                'layers.0.blocks.0.mlp.fc3.weight']
    for k, v in donor.pretrained_target().state_dict().items():
        assert torch.equal(enc.pretrained_target().state_dict()[k], v), k


def test_min_loaded_ratio_and_bad_files_fail(tmp_path, microsoft_swin_checkpoint):
    # A wider Swin (as Swin-B into Swin-T): every tensor is shape-mismatched.
    microsoft_swin_checkpoint(tmp_path / 'swin_wide.pth', embed=32)
    enc = TransDeepLabEncoder(**TINY, init_cfg=dict(type='Pretrained',
                                                    checkpoint=str(tmp_path / 'swin_wide.pth')))
    with pytest.raises(PretrainedLoadError, match=r'swin_wide\.pth.*at least 90%'):
        enc.init_weights()
    enc = TransDeepLabEncoder(**TINY, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'swin_wide.pth'), min_loaded_ratio=0.))
    enc.init_weights()
    assert enc.pretrained_report.loaded_ratio < 0.1 and enc.pretrained_report.mismatched
    torch.save({'state_dict': {'conv.weight': torch.zeros(3)}}, tmp_path / 'cnn.pth')
    enc = TransDeepLabEncoder(**TINY, init_cfg=dict(type='Pretrained',
                                                    checkpoint=str(tmp_path / 'cnn.pth')))
    with pytest.raises(PretrainedLoadError, match=r'cnn\.pth.*not a Swin checkpoint'):
        enc.init_weights()
    enc = TransDeepLabEncoder(**TINY, init_cfg=dict(type='Pretrained',
                                                    checkpoint=str(tmp_path / 'none.pth')))
    with pytest.raises(PretrainedLoadError, match='file not found'):
        enc.init_weights()


# -- training and input sizes ----------------------------------------------------------------


def test_every_parameter_receives_a_gradient():
    model = tiny_segmentor(size_divisor=16)
    model.train()
    data = model.data_preprocessor(make_batch([(64, 64), (64, 64)]), training=True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('decode.loss')).backward()
    without = [n for n, p in model.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert not without


@pytest.mark.parametrize('size', [(96, 128), (200, 152), (224, 224), (512, 512)])
def test_any_input_size_through_encoder_decoder(size):
    # Windows explicit at every size: the pyramid keeps (2, 4) whatever the map.
    model = tiny_segmentor()
    model.eval()
    data = model.data_preprocessor(make_batch([size]), training=False)
    with torch.no_grad():
        result = model(**data, mode='predict')[0]
    assert result.seg_logits.data.shape == (3, *size)
    assert result.pred_sem_seg.data.shape == (1, *size)
    assert torch.isfinite(result.seg_logits.data).all()
    model.train()
    data = model.data_preprocessor(make_batch([size]), training=True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['decode.loss_bce_dice'])


def test_leaf_config_builds():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/baselines/transdeeplab-2l_swint_super1.py'))
    model = MODELS.build(cfg.model)
    assert type(model.backbone) is TransDeepLabEncoder
    assert type(model.decode_head) is TransDeepLabHead
    assert model.backbone.depths == (2, 2, 6) and model.backbone.window_size == 8
    assert model.backbone.spp.window_sizes == (16, 32)
    assert [len(layer.blocks) for layer in model.backbone.spp.layers] == [2, 1]
    assert model.decode_head.window_size == 8 and model.decode_head.num_classes == 3
    assert type(model.decode_head.loss_decode).__name__ == 'BCEDiceLoss'
    assert cfg.optimizer.type == 'Adam'  # CS-UNet's recipe for the tables


def test_their_recipe_fragment_builds():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/schedules/sgd_poly_ce-dice.py'))
    assert cfg.optimizer.type == 'SGD' and cfg.optimizer.lr == 0.01
    assert cfg.param_scheduler[0].type == 'PolyLR' and cfg.param_scheduler[0].power == 0.9
    head = TransDeepLabHead(**{**TINY_HEAD, 'loss_decode': cfg.ce_dice_loss_decode})
    assert [(type(loss).__name__, loss.loss_weight) for loss in head.loss_decode] == [
        ('CrossEntropyLoss', 0.4), ('DiceLoss', 0.6)]
