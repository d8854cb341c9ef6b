"""The default CS-UNet is wired and sized like the official code (Alrfou et al., CS-UNet).

Pins: the decoder's Swin skips are the stage *inputs* (patch embedding, patch-merging outputs),
only the bottleneck is normalised; the decoder's stochastic depth mirrors the encoder's; a
random-init ResNet keeps its last BatchNorm at 1; the parameter count equals the official one
(+3: the bias of mmseg's ``conv_seg``, which the official output convolution lacks).
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from csunet.models import SwinExpandDecoder, SwinResMLP, TimmCNN

REPO = Path(__file__).resolve().parents[2]
#: Live parameters of the official CS-UNet r50 at depths (2, 2, 2, 2), 3 classes (its output
#: convolution has no bias; its decoder's unused ``patch_embed`` / ``norm`` are not counted).
OFFICIAL_R50_INTERMEDIATE = 56_303_588


def _capture_decoder_inputs(model, x):
    seen = {}

    def keep_inputs(module, args):
        seen['inputs'] = args[0]  # returns None: the inputs pass on unchanged

    handle = model.decode_head.register_forward_pre_hook(keep_inputs)
    probes = {'patch_embed': model.backbone.swin.patch_embed,
              'merge0': model.backbone.swin.layers[0].downsample,
              'merge1': model.backbone.swin.layers[1].downsample,
              'stage3_blocks': model.backbone.swin.layers[3].blocks[-1]}
    handles = [m.register_forward_hook(lambda mod, a, out, k=k: seen.__setitem__(k, out))
               for k, m in probes.items()]
    with torch.no_grad():
        model.backbone.swin.pos_drop.eval()
        model.decode_head(model.backbone(x))
    for h in handles + [handle]:
        h.remove()
    return seen


def test_decoder_gets_patch_embedding_and_patch_merging_outputs(tiny_csunet_cfg):
    model = MODELS.build(tiny_csunet_cfg(cnn='resnet18')).eval()
    seen = _capture_decoder_inputs(model, torch.randn(1, 3, 64, 96))
    inputs = seen['inputs']
    nchw = lambda t: t.permute(0, 3, 1, 2)  # noqa: E731  (blocks are channels-last)
    assert torch.equal(inputs[0], nchw(seen['patch_embed']))
    assert torch.equal(inputs[1], nchw(seen['merge0']))
    assert torch.equal(inputs[2], nchw(seen['merge1']))
    # Only the bottleneck is normalised: the encoder's final norm on stage 3's output.
    swin = model.backbone.swin
    torch.testing.assert_close(inputs[3], nchw(swin.norm3(seen['stage3_blocks'])))
    assert not any(hasattr(swin, f'norm{i}') for i in range(3))
    # The CNN maps follow unchanged.
    assert len(inputs) == 8 and inputs[4].shape[1] == model.backbone.cnn.out_channels[0]


def test_stage_output_skips_stay_available_as_an_option():
    swin = SwinResMLP(embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8),
                      skip_source='stage_output').eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        outs = swin(x)
        stage0, _ = swin.layers[0](swin.patch_embed(x))
    torch.testing.assert_close(outs[0], swin.norm0(stage0).permute(0, 3, 1, 2))
    extra = sum(p.numel() for n, p in swin.named_parameters()
                if n[:5] in ('norm0', 'norm1', 'norm2'))
    assert extra == 2 * (32 + 64 + 128)
    with pytest.raises(ValueError, match='skip_source'):
        SwinResMLP(skip_source='stage_middle')


def test_decoder_stochastic_depth_mirrors_the_encoder():
    enc = SwinResMLP(depths='original', drop_path_rate=0.2)
    head = SwinExpandDecoder(in_channels=[96, 192, 384, 768], decoder_depths=(6, 2, 2),
                             drop_path_rate=0.2, num_classes=3)

    def rates(stage):
        return [getattr(b.drop_path, 'drop_prob', 0.) for b in stage.blocks]

    for level, stage in zip((2, 1, 0), head.layers_up):
        assert rates(stage) == pytest.approx(rates(enc.layers[level]))
    # Falling toward the output: the stride-4 level starts at 0.
    assert rates(head.layers_up[2])[0] == 0.
    assert rates(head.layers_up[0])[-1] > rates(head.layers_up[1])[-1]


@pytest.mark.parametrize('name,has_hook', [('resnet50', True), ('seresnext50_32x4d', True),
                                           ('efficientnet_b0', False)])
def test_random_init_cnn_keeps_last_bn_at_one(name, has_hook):
    cnn = TimmCNN(name)
    hooked = [m for m in cnn.model.modules() if hasattr(m, 'zero_init_last')]
    assert bool(hooked) == has_hook
    # The BatchNorm timm's hook zeroes: bn3 of a bottleneck (bn2 of a basic block).
    last_bn = lambda block: getattr(block, 'bn3', None) or block.bn2  # noqa: E731
    for block in hooked:
        assert torch.equal(last_bn(block).weight, torch.ones_like(last_bn(block).weight)), name
    # An explicit model_kwargs choice is respected.
    if has_hook:
        zeroed = TimmCNN(name, model_kwargs=dict(zero_init_last=True))
        block = [m for m in zeroed.model.modules() if hasattr(m, 'zero_init_last')][0]
        assert not last_bn(block).weight.any()


def _r50_model(depths, drop_path_rate=None):
    cfg = Config.fromfile(str(REPO / 'configs/csunet/csunet_r50_super3.py'))
    dec = {'original': (6, 2, 2), 'intermediate': (2, 2, 2)}[depths]
    cfg.model.backbone.swin.depths = depths
    cfg.model.decode_head.decoder_depths = dec
    if drop_path_rate is not None:
        cfg.model.backbone.swin.drop_path_rate = drop_path_rate
        cfg.model.decode_head.drop_path_rate = drop_path_rate
    return MODELS.build(cfg.model)


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_equals_the_official_code():
    inter, orig = _r50_model('intermediate'), _r50_model('original')
    conv_seg_bias = inter.decode_head.conv_seg.bias.numel()
    assert conv_seg_bias == 3
    assert _count(inter) == OFFICIAL_R50_INTERMEDIATE + conv_seg_bias
    # The original variant adds 4 encoder blocks at stride 16 and their 4 mirrors in the decoder;
    # the blocks themselves are identical to the official ones (same count at intermediate).
    block = _count(orig.backbone.swin.layers[2].blocks[0])
    assert _count(orig) - _count(inter) == 8 * block


@pytest.mark.slow
def test_every_parameter_gets_a_gradient_in_one_training_step():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    # Without stochastic depth, which may drop a whole block for every sample of a small batch.
    model = _r50_model('intermediate', drop_path_rate=0.)
    model.init_weights()
    model.train()
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 64, 64)))
        s.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(s)
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    model.parse_losses(losses)[0].backward()
    no_grad = [n for n, p in model.named_parameters()
               if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
    assert not no_grad


def test_decoder_depths_by_variant_name_mirror_the_table():
    widths = [96, 192, 384, 768]
    for variant, mirrored in (('original', [6, 2, 2]), ('intermediate', [2, 2, 2])):
        head = SwinExpandDecoder(in_channels=widths, decoder_depths=variant, num_classes=3)
        assert [len(stage.blocks) for stage in head.layers_up] == mirrored
    with pytest.raises(ValueError, match='bottleneck_depth'):
        SwinExpandDecoder(in_channels=widths, decoder_depths='original', bottleneck_depth=6,
                          num_classes=3)
    with pytest.raises(KeyError, match='huge'):
        SwinExpandDecoder(in_channels=widths, decoder_depths='huge', num_classes=3)
