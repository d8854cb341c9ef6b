"""HiFormer (ResNet + Swin-T stages 0-2 + Double-Level Fusion, and its decoder): parameter counts
of the official models, wiring, the two official defects as options, Swin-T / ResNet checkpoint
loading, gradients, input sizes and the leaf config."""
from pathlib import Path

import pytest
import timm
import torch
import torchvision
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from csunet.models.backbones import HIFORMER_ARCHS, HiFormerEncoder, TimmCNN
from csunet.models.backbones.hiformer import CrossAttention, CrossLevelBlock, DoubleLevelFusion
from csunet.models.decode_heads import HiFormerHead
from csunet.models.utils import PretrainedLoadError
from csunet.models.utils.swin_convert import interpolate_relative_position_bias_table

REPO_ROOT = Path(__file__).resolve().parents[3]

#: Parameters of the official HiFormer-S/B/L (amirhossein-kz/HiFormer, configs/HiFormer_configs.py:
#: 224², 9 classes), counted by running the official code.
OFFICIAL_PARAMS = {'s': 23_254_355, 'b': 25_512_115, 'l': 29_519_219}

#: A small HiFormer for fast tests: ResNet-18, Swin width 16, DLF widths (16, 64).
TINY = dict(arch='s', img_size=64, embed_dims=16, num_heads=(1, 2, 4), depths=(1, 1, 2),
            window_size=4, cnn=dict(model_name='resnet18'), dlf_num_heads=(2, 4))
TINY_HEAD = dict(in_channels=(16, 64), channels=8, mid_channels=16, num_groups=4, num_classes=3,
                 loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3))
FUSION_PARTS = ('blocks', 'projs', 'fusion', 'revert_projs')


def n_params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def tiny_segmentor(size_divisor=1, **backbone):
    """``size_divisor=1``: batches are not padded, the model must cope with the size itself."""
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                               seg_pad_val=255, size_divisor=size_divisor),
        backbone=dict(type='HiFormerEncoder', **{**TINY, **backbone}),
        decode_head=dict(type='HiFormerHead', **TINY_HEAD),
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


def fusion_parameters(enc):
    """The DLF parameters the official output ignores: CLS norms, CLS position embeddings
    (index 0 of ``pos_embed``, returned as the tensors to perturb) and the fusion blocks."""
    params = [p for blk in enc.dlf.blocks for part in FUSION_PARTS
              for p in getattr(blk, part).parameters()]
    return params + list(enc.dlf.cls_norm.parameters())


# -- parameter counts ------------------------------------------------------------------------


@pytest.mark.parametrize('arch', ['s', 'b', 'l'])
def test_parameter_counts_equal_the_official_models(arch):
    enc = HiFormerEncoder(arch=arch, window_size=7, img_size=224)
    head = HiFormerHead(num_classes=9, loss_decode=dict(type='CrossEntropyLoss'))
    # mmseg adds nothing: its 1x1 conv_seg is replaced by the official 3x3 classifier, and the
    # loss has no parameters.
    assert not any(True for _ in head.loss_decode.parameters())
    assert n_params(head.conv_seg) == 16 * 9 * 9 + 9
    assert n_params(enc, head) == OFFICIAL_PARAMS[arch]
    # The official variants differ in the ResNet and the DLF only.
    assert enc.cnn.model_name == HIFORMER_ARCHS[arch]['cnn']
    depths = HIFORMER_ARCHS[arch]['dlf_depths'][0]
    assert [len(b) for b in enc.dlf.blocks[0].blocks] == list(depths[:2])


def test_depths_and_validation():
    base = {k: v for k, v in TINY.items() if k not in ('depths', 'num_heads', 'embed_dims')}
    assert HiFormerEncoder(depths='original', **base).depths == (2, 2, 6)
    enc = HiFormerEncoder(depths='intermediate', **base)
    assert enc.depths == (2, 2, 2) and [len(s.blocks) for s in enc.swin.layers] == [2, 2, 2]
    with pytest.raises(ValueError, match='3 depths'):
        HiFormerEncoder(depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24))
    with pytest.raises(KeyError, match="arch='xl'"):
        HiFormerEncoder(arch='xl')
    with pytest.raises(KeyError, match='out_strides'):
        HiFormerEncoder(**{**TINY, 'cnn': dict(model_name='resnet18', out_strides=(4, 8))})
    with pytest.raises(ValueError, match='triples'):
        DoubleLevelFusion(depths=((1, 2), ))


# -- wiring ----------------------------------------------------------------------------------


def test_timm_resnet_maps_equal_torchvision_layers_1_to_3():
    """TimmCNN at strides 4/8/16 is torchvision's resnet cut after layer3 (the official CNN)."""
    tv = torchvision.models.resnet18().eval()
    cnn = TimmCNN('resnet18', out_strides=(4, 8, 16)).eval()
    assert not hasattr(cnn.model, 'layer4') and not hasattr(cnn.model, 'fc')
    missing = cnn.model.load_state_dict(tv.state_dict(), strict=False)
    assert not missing.missing_keys
    assert {k.split('.')[0] for k in missing.unexpected_keys} == {'layer4', 'fc'}
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        ref = tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))
        for layer, got in zip((tv.layer1, tv.layer2, tv.layer3), cnn(x)):
            ref = layer(ref)
            torch.testing.assert_close(got, ref)


def test_encoder_levels_by_hand():
    enc = HiFormerEncoder(**TINY).eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        low, high = enc(x)
        assert low.shape == (2, 16, 16, 24) and high.shape == (2, 64, 4, 6)
        assert enc.out_channels == [16, 64]
        c4, c8, c16 = [p(c).permute(0, 2, 3, 1) for p, c in zip(enc.proj, enc.cnn(x))]
        s = enc.swin.layers
        x1 = c4 + s[0].forward_blocks(c4)  # the official residual around stage 0
        x2 = c8 + s[1].forward_blocks(s[0].downsample(x1))
        x3 = c16 + s[2].forward_blocks(s[1].downsample(x2))
        assert not hasattr(s[2], 'downsample')
        ref_low, ref_high = enc.dlf((x1, x3))
    torch.testing.assert_close(low, ref_low)
    torch.testing.assert_close(high, ref_high)


def test_cross_attention_is_one_query_attention():
    attn = CrossAttention(8, num_heads=2).eval()
    x = torch.randn(3, 5, 8)
    q = attn.wq(x[:, :1]).view(3, 1, 2, 4).transpose(1, 2)
    k = attn.wk(x).view(3, 5, 2, 4).transpose(1, 2)
    v = attn.wv(x).view(3, 5, 2, 4).transpose(1, 2)
    weights = torch.softmax(q @ k.transpose(-2, -1) / 2., dim=-1)  # scale: head_dim ** -0.5
    ref = attn.proj((weights @ v).transpose(1, 2).reshape(3, 1, 8))
    torch.testing.assert_close(attn(x), ref)


@pytest.mark.parametrize('official', [False, True])
def test_cross_level_block_by_hand(official):
    blk = CrossLevelBlock((8, 16), (1, 2, 0), (2, 4), (2., 2.), official_output=official).eval()
    xs = [torch.randn(2, 1 + 12, 8), torch.randn(2, 1 + 3, 16)]
    outs = blk(xs)
    expected = []
    for i, o in ((0, 1), (1, 0)):
        cls = blk.projs[i](xs[i][:, :1])
        other = torch.cat([cls, xs[o][:, 1:]], dim=1)
        cls = blk.revert_projs[i](other[:, :1] + blk.fusion[i].attn(blk.fusion[i].norm1(other)))
        fused = torch.cat([cls, xs[i][:, 1:]], dim=1)
        expected.append(fused if official else blk.blocks[i](fused))
    for out, ref in zip(outs, expected):
        torch.testing.assert_close(out, ref)
    # The official code's rule: no cross depth -> one bare block; d > 0 -> a Sequential of d.
    assert isinstance(blk.fusion[0], nn.Module) and hasattr(blk.fusion[0], 'attn')
    deep = CrossLevelBlock((8, 16), (1, 1, 2), (2, 4), (1., 1.))
    assert len(deep.fusion[0]) == 2 and deep.fusion[0][0].attn.wq.in_features == 16


def test_dlf_cls_tokens_and_position_embedding():
    dlf = DoubleLevelFusion((8, 16), (4, 2), ((1, 1, 0), ), (2, 4), (1., 1.)).eval()
    maps = (torch.randn(2, 4, 4, 8), torch.randn(2, 2, 2, 16))
    # At the reference grid the embedding is the parameter itself.
    assert dlf.position_embedding(0, 4, 4) is dlf.pos_embed[0]
    resized = dlf.position_embedding(0, 6, 3)
    assert resized.shape == (1, 1 + 18, 8)
    torch.testing.assert_close(resized[:, :1], dlf.pos_embed[0][:, :1])  # CLS entry kept
    xs = []
    for i, m in enumerate(maps):
        tokens = m.flatten(1, 2)
        cls = dlf.cls_norm[i](tokens).mean(1, keepdim=True)  # the official norm + avgpool
        xs.append(torch.cat([cls, tokens], 1) + dlf.pos_embed[i])
    xs = dlf.blocks[0](xs)
    low, high = dlf(maps)
    ref_low = dlf.norm[0](xs[0][:, 1:]).view(2, 4, 4, 8).permute(0, 3, 1, 2)
    ref_high = dlf.norm[1](xs[1][:, 1:]).view(2, 2, 2, 16).permute(0, 3, 1, 2)
    torch.testing.assert_close(low, ref_low)
    torch.testing.assert_close(high, ref_high)


# -- the official defects as options ---------------------------------------------------------


@pytest.mark.parametrize('official', [False, True])
def test_official_dlf_output_ignores_the_fusion(official):
    torch.manual_seed(0)
    enc = HiFormerEncoder(**TINY, official_dlf_output=official).eval()
    head = HiFormerHead(**TINY_HEAD).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = head(enc(x))
        for p in fusion_parameters(enc):
            p.add_(torch.randn_like(p))
        for pos in enc.dlf.pos_embed:
            pos[:, 0].add_(torch.randn_like(pos[:, 0]))
        after = head(enc(x))
    if official:
        torch.testing.assert_close(after, before, rtol=0, atol=0)
    else:
        assert (after - before).abs().max() > 1e-3


def test_official_dlf_output_leaves_the_fusion_without_gradient():
    model = tiny_segmentor(size_divisor=16, official_dlf_output=True)
    model.train()
    data = model.data_preprocessor(make_batch([(64, 64)]), training=True)
    sum(v for k, v in model(**data, mode='loss').items() if 'loss' in k).backward()
    without = {n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()}
    fusion = {f'backbone.dlf.blocks.0.{n}' for part in FUSION_PARTS
              for n, _ in getattr(model.backbone.dlf.blocks[0], part).named_parameters(prefix=part)}
    fusion |= {f'backbone.dlf.cls_norm.{n}' for n, _ in
               model.backbone.dlf.cls_norm.named_parameters()}
    # The ViT blocks of the official mode are not run at all; the rest gets no gradient either.
    assert without == fusion
    # Only the CLS entry of each position embedding is unused.
    for pos in model.backbone.dlf.pos_embed:
        assert not pos.grad[:, 0].any() and pos.grad[:, 1:].abs().sum(-1).all()


def test_every_parameter_receives_a_gradient():
    model = tiny_segmentor(size_divisor=16)
    model.train()
    data = model.data_preprocessor(make_batch([(64, 64), (64, 64)]), training=True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('decode.loss')).backward()
    without = [n for n, p in model.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert not without
    for pos in model.backbone.dlf.pos_embed:
        assert pos.grad[:, 0].any()


# -- checkpoints -----------------------------------------------------------------------------


def swin_params(src):
    """The tensors of a Microsoft Swin-T that HiFormer uses (stages 0-2, two patch mergings)."""
    skip = ('patch_embed', 'layers.3', 'layers.2.downsample', 'norm.', 'head.')
    return {k: v for k, v in src.items() if not k.startswith(skip) and 'index' not in k}


@pytest.mark.parametrize('window', [7, 8])
def test_swin_part_loads_microsoft_swin_t(tmp_path, window, microsoft_swin_checkpoint):
    src = microsoft_swin_checkpoint(tmp_path / 'swin_t.pth')
    enc = HiFormerEncoder(**{**TINY, 'depths': (2, 2, 6), 'window_size': window},
                          swin_init_cfg=dict(type='Pretrained',
                                             checkpoint=str(tmp_path / 'swin_t.pth')))
    dlf_before = {k: v.clone() for k, v in enc.dlf.state_dict().items()}
    enc.init_weights()
    report = enc.swin.pretrained_report
    assert report.branch == 'hiformer.swin'
    assert report.loaded_ratio == 1. and not report.missing and not report.mismatched
    # What HiFormer has no use for: the patch embedding, the last patch merging, stage 3, norm.
    unused = ('patch_embed.', 'layers.2.downsample.', 'layers.3.', 'norm3.')
    assert all(k.startswith(unused) for k in report.unexpected)
    assert all(any(k.startswith(u) for k in report.unexpected) for u in unused)
    state = enc.swin.state_dict()
    for k, v in swin_params(src).items():
        if k.endswith('relative_position_bias_table'):
            v = interpolate_relative_position_bias_table(v, window)
        assert torch.equal(state[k], v), k
    for k, v in enc.dlf.state_dict().items():
        assert torch.equal(v, dlf_before[k]), k


def test_official_swin_reinit_overwrites_the_loaded_weights(tmp_path, microsoft_swin_checkpoint):
    src = swin_params(microsoft_swin_checkpoint(tmp_path / 'swin_t.pth'))
    enc = HiFormerEncoder(**{**TINY, 'depths': (2, 2, 6), 'window_size': 7},
                          official_swin_reinit=True,
                          swin_init_cfg=dict(type='Pretrained',
                                             checkpoint=str(tmp_path / 'swin_t.pth')))
    enc.init_weights()
    assert enc.swin.pretrained_report.loaded_ratio == 1.
    state = enc.swin.state_dict()
    for k, v in src.items():
        if k.endswith('relative_position_bias_table'):  # the only survivors
            assert torch.equal(state[k], v), k
        elif 'norm' in k:
            assert torch.equal(state[k], torch.ones_like(v) if k.endswith('weight')
                               else torch.zeros_like(v)), k
        elif k.endswith('bias'):
            assert not state[k].any(), k
        else:  # fresh truncated normal, std 0.02, far from the N(0, 1) source
            assert state[k].std() < 0.1 and not torch.equal(state[k], v), k


def test_intermediate_depths_load_swin_t(tmp_path, microsoft_swin_checkpoint):
    microsoft_swin_checkpoint(tmp_path / 'swin_t.pth')
    enc = HiFormerEncoder(**{**TINY, 'depths': (2, 2, 2)},
                          swin_init_cfg=dict(type='Pretrained',
                                             checkpoint=str(tmp_path / 'swin_t.pth')))
    enc.init_weights()
    report = enc.swin.pretrained_report
    assert report.loaded_ratio == 1.
    assert {'.'.join(k.split('.')[:4]) for k in report.unexpected
            if k.startswith('layers.2.blocks')} == {f'layers.2.blocks.{j}' for j in range(2, 6)}


def test_swin_part_loads_converted_file_with_prefix(tmp_path):
    donor = HiFormerEncoder(**TINY)
    state = {f'backbone.swin.{k}': v for k, v in donor.swin.state_dict().items()}
    state['backbone.swin.patch_embed.proj.weight'] = torch.zeros(16, 3, 4, 4)
    torch.save({'state_dict': state}, tmp_path / 'conv.pth')
    enc = HiFormerEncoder(**TINY, swin_init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'conv.pth'), prefix='backbone.swin.'))
    enc.init_weights()
    assert enc.swin.pretrained_report.loaded_ratio == 1.
    assert enc.swin.pretrained_report.unexpected == ['patch_embed.proj.weight']
    for k, v in donor.swin.state_dict().items():
        assert torch.equal(enc.swin.state_dict()[k], v), k


def test_min_loaded_ratio_and_bad_files_fail(tmp_path, microsoft_swin_checkpoint):
    # A wider Swin (as Swin-B into Swin-T): every tensor is shape-mismatched.
    microsoft_swin_checkpoint(tmp_path / 'swin_wide.pth', embed=32)
    cfg = dict(type='Pretrained', checkpoint=str(tmp_path / 'swin_wide.pth'))
    enc = HiFormerEncoder(**TINY, swin_init_cfg=cfg)
    with pytest.raises(PretrainedLoadError, match=r'hiformer\.swin.*swin_wide\.pth.*at least 90%'):
        enc.init_weights()
    enc = HiFormerEncoder(**TINY, swin_init_cfg={**cfg, 'min_loaded_ratio': 0.})
    enc.init_weights()
    assert enc.swin.pretrained_report.loaded_ratio < 0.1 and enc.swin.pretrained_report.mismatched
    torch.save({'state_dict': {'conv.weight': torch.zeros(3)}}, tmp_path / 'cnn.pth')
    enc = HiFormerEncoder(**TINY, swin_init_cfg=dict(type='Pretrained',
                                                     checkpoint=str(tmp_path / 'cnn.pth')))
    with pytest.raises(PretrainedLoadError, match=r'cnn\.pth.*not a Swin checkpoint'):
        enc.init_weights()


def test_resnet_loads_timm_imagenet_layout(tmp_path):
    """The ResNet is a TimmCNN: timm classification weights load, the unused tail is reported."""
    src = timm.create_model('resnet18').state_dict()
    torch.save(src, tmp_path / 'r18.pth')
    enc = HiFormerEncoder(**{**TINY, 'cnn': dict(model_name='resnet18', init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'r18.pth')))})
    enc.init_weights()
    report = enc.cnn.model.pretrained_report  # TimmCNN keeps it on its timm model
    assert report.loaded_ratio == 1.
    assert {k.split('.')[0] for k in report.unexpected} == {'layer4', 'fc'}
    assert torch.equal(enc.cnn.model.layer3[1].conv2.weight, src['layer3.1.conv2.weight'])


# -- input sizes and configs -----------------------------------------------------------------


@pytest.mark.parametrize('size', [(96, 128), (200, 152), (224, 224), (77, 101)])
def test_any_input_size_through_encoder_decoder(size):
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


def test_padding_does_not_change_the_kept_grid_size():
    enc = HiFormerEncoder(**TINY).eval()
    with torch.no_grad():
        low, high = enc(torch.randn(1, 3, 77, 101))
    assert low.shape[-2:] == (20, 28) and high.shape[-2:] == (5, 7)  # 80 x 112 padded
    logits = HiFormerHead(**TINY_HEAD).eval()((low, high))
    assert logits.shape[-2:] == (80, 112)


def test_leaf_config_builds():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/baselines/hiformer-b_swint_super1.py'))
    model = MODELS.build(cfg.model)
    enc = model.backbone
    assert type(enc) is HiFormerEncoder and type(model.decode_head) is HiFormerHead
    assert enc.arch == 'b' and enc.cnn.model_name == 'resnet50'
    assert enc.depths == (2, 2, 6) and enc.window_size == 8
    assert enc.dlf.grid_sizes == (128, 32)  # position embeddings sized for 512² crops
    assert not enc.dlf.blocks[0].official_output and not enc.swin.official_reinit
    assert model.decode_head.num_classes == 3
    assert type(model.decode_head.loss_decode).__name__ == 'BCEDiceLoss'
    assert cfg.optimizer.type == 'Adam'  # CS-UNet's recipe for the tables
