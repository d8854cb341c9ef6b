"""Swin checkpoint conversion (Microsoft / timm / authors' layouts -> SwinResMLP) and the
mmpretrain classifier -> CS-UNet mapping."""
import re

import pytest
import timm
import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.fileio import ConversionError
from csunet.models.backbones.swin_resmlp import SwinResMLP
from csunet.models.layers import PatchMerging
from csunet.models.layers.res_mlp import ResMLP
from csunet.models.utils import load_pretrained
from csunet.models.utils.swin_convert import (convert_swin_state_dict, decoder_block_mapping,
                                              detect_swin_layout,
                                              interpolate_relative_position_bias_table,
                                              mmpretrain_to_csunet, swin_depths)


@pytest.fixture(scope='module')
def timm_swin():
    torch.manual_seed(0)
    return timm.create_model('swin_tiny_patch4_window7_224').eval()


def to_microsoft(timm_state):
    """timm >= 0.9 keys -> Microsoft's release layout, with its buffers."""
    ms = {}
    for k, v in timm_state.items():
        k = re.sub(r'layers\.(\d+)\.downsample',
                   lambda m: f'layers.{int(m.group(1)) - 1}.downsample', k)
        ms[k.replace('head.fc.', 'head.')] = v
        if k.endswith('relative_position_bias_table'):
            base = k[:-len('relative_position_bias_table')]
            ms[base + 'relative_position_index'] = torch.zeros(49, 49, dtype=torch.long)
    ms['layers.0.blocks.1.attn_mask'] = torch.zeros(64, 49, 49)
    return ms


def test_microsoft_swin_t_loads_completely(timm_swin, tmp_path):
    ms = to_microsoft(timm_swin.state_dict())
    ckpt = {'model': {'module.swin_unet.' + k: v for k, v in ms.items()}}
    state, info = convert_swin_state_dict(ckpt)
    assert info['layout'] == 'microsoft' and info['prefix'] == 'module.swin_unet.'
    assert info['depths'] == (2, 2, 6, 2)
    assert info['window_size'] == {'source': [7], 'target': 8}
    # 24 initialised: fc3 weight + bias of the 12 blocks (the default model has no norm0..norm2).
    assert info['from_source'] == 171 and len(info['initialised']) == 24
    assert sorted(info['dropped']) == sorted(
        ['head.weight', 'head.bias', 'layers.0.blocks.1.attn_mask'] +
        [k for k in ms if k.endswith('relative_position_index')])

    path = str(tmp_path / 'swin.pth')
    torch.save({'state_dict': state}, path)
    model = SwinResMLP(init_cfg=dict(type='Pretrained', checkpoint=path, min_loaded_ratio=1.0))
    model.init_weights()
    report = model.pretrained_report
    assert (len(report.loaded), len(report.missing), len(report.unexpected),
            len(report.mismatched)) == (195, 0, 0, 0)

    target = model.state_dict()
    compared = 0
    for k, v in ms.items():
        if k.startswith('head.') or k.endswith(('relative_position_index', 'attn_mask')):
            continue
        new = {'norm.weight': 'norm3.weight', 'norm.bias': 'norm3.bias'}.get(k, k)
        if k.endswith('relative_position_bias_table'):
            assert target[new].shape == (225, v.shape[1])
        else:
            assert torch.equal(target[new], v), k
        compared += 1
    assert compared == 171
    fc3 = target['layers.2.blocks.5.mlp.fc3.weight']
    assert torch.equal(fc3, torch.eye(384))
    assert not target['layers.2.blocks.5.mlp.fc3.bias'].any()
    assert not any(re.match(r'norm[012]\.', k) for k in target)


def test_stage_output_skips_get_unit_stage_norms(timm_swin):
    state, info = convert_swin_state_dict(to_microsoft(timm_swin.state_dict()), stage_norms=True)
    assert len(info['initialised']) == 24 + 2 * 3
    result = SwinResMLP(skip_source='stage_output').load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(state['norm1.weight'], torch.ones(192))
    assert not state['norm1.bias'].any()


def test_without_fc3_init_only_fc3_is_missing(timm_swin):
    state, info = convert_swin_state_dict(to_microsoft(timm_swin.state_dict()), fc3_init=None)
    assert not info['initialised']
    result = SwinResMLP().load_state_dict(state, strict=False)
    assert not result.unexpected_keys
    assert all('mlp.fc3.' in k for k in result.missing_keys)
    assert len(result.missing_keys) == 2 * 12


def test_timm_layout_equals_microsoft(timm_swin):
    timm_state = timm_swin.state_dict()
    assert detect_swin_layout(timm_state) == 'timm'
    a, info = convert_swin_state_dict({'state_dict': timm_state}, fc3_init='zero')
    b, _ = convert_swin_state_dict(to_microsoft(timm_state), fc3_init='zero')
    assert info['layout'] == 'timm' and a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not a['layers.0.blocks.0.mlp.fc3.weight'].any()
    # timm's patch merging (start of stage i+1) == ours (end of stage i) with the moved weights.
    for i in range(3):
        ours = PatchMerging(96 * 2**i)
        ours.load_state_dict({k[len(f'layers.{i}.downsample.'):]: v for k, v in a.items()
                              if k.startswith(f'layers.{i}.downsample.')})
        x = torch.randn(2, 4, 6, 96 * 2**i)
        with torch.no_grad():
            torch.testing.assert_close(ours(x), timm_swin.layers[i + 1].downsample(x))


def test_bias_table_interpolation():
    table = torch.randn(169, 3)
    assert torch.equal(interpolate_relative_position_bias_table(table, 7), table)
    resized = interpolate_relative_position_bias_table(table, 8)
    assert resized.shape == (225, 3)
    grid = table.t().reshape(1, 3, 13, 13)
    expected = F.interpolate(grid, size=(15, 15), mode='bicubic', align_corners=False)
    torch.testing.assert_close(resized, expected.reshape(3, 225).t())
    const = interpolate_relative_position_bias_table(torch.full((169, 2), 0.5), 8)
    torch.testing.assert_close(const, torch.full((225, 2), 0.5))
    with pytest.raises(ConversionError, match='170 rows'):
        interpolate_relative_position_bias_table(torch.zeros(170, 1), 8)


def test_resmlp_source_keeps_fc3():
    """The authors' MicroLite checkpoints (window 7, trained ResMLP): fc3 comes from the source."""
    src = SwinResMLP(embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8), window_size=7)
    state, info = convert_swin_state_dict({'model': src.state_dict()}, window_size=8)
    assert not info['initialised'] and info['from_source'] == len(src.state_dict())
    for k, v in src.state_dict().items():
        if not k.endswith('relative_position_bias_table'):
            assert torch.equal(state[k], v), k


def test_identity_fc3_semantics():
    mlp = ResMLP(8).eval()
    with torch.no_grad():
        mlp.fc3.weight.copy_(torch.eye(8))
        mlp.fc3.bias.zero_()
        x = torch.randn(5, 8)
        torch.testing.assert_close(mlp(x), F.gelu(mlp.fc2(F.gelu(mlp.fc1(x))) + x))


def test_refused_layouts():
    with pytest.raises(ConversionError, match='mmpretrain/mmseg'):
        convert_swin_state_dict({'backbone.patch_embed.projection.weight': torch.zeros(1),
                                 'backbone.stages.0.blocks.0.attn.w_msa.qkv.weight':
                                     torch.zeros(1)})
    with pytest.raises(ConversionError, match='not a Swin checkpoint'):
        convert_swin_state_dict({'conv1.weight': torch.zeros(1)})
    with pytest.raises(ConversionError, match='Swin V2'):
        convert_swin_state_dict({'patch_embed.proj.weight': torch.zeros(1),
                                 'layers.0.blocks.0.attn.logit_scale': torch.zeros(1)})
    with pytest.raises(ConversionError, match='fc3_init'):
        convert_swin_state_dict({}, fc3_init='eye')
    # stage 1 filtered out: an error naming the stages, not a KeyError
    with pytest.raises(ConversionError, match=r'stages \[0, 2\] but none in stage\(s\) \[1\]'):
        swin_depths({'layers.0.blocks.0.attn.qkv.weight': torch.zeros(1),
                     'layers.2.blocks.1.attn.qkv.weight': torch.zeros(1)})
    assert swin_depths({'layers.0.blocks.1.attn.qkv.weight': torch.zeros(1)}) == (2, )


def test_decoder_block_mapping():
    pairs = decoder_block_mapping((2, 2, 6, 2), (6, 2, 2))
    assert pairs[0] == ('layers_up.0.blocks.0.', 'layers.2.blocks.0.')
    assert pairs[5] == ('layers_up.0.blocks.5.', 'layers.2.blocks.5.')
    assert pairs[6:] == [('layers_up.1.blocks.0.', 'layers.1.blocks.0.'),
                         ('layers_up.1.blocks.1.', 'layers.1.blocks.1.'),
                         ('layers_up.2.blocks.0.', 'layers.0.blocks.0.'),
                         ('layers_up.2.blocks.1.', 'layers.0.blocks.1.')]
    assert len(decoder_block_mapping((2, 2, 2, 2), (6, 2, 2))) == 6
    with pytest.raises(ConversionError):
        decoder_block_mapping((2, 2, 6, 2), (2, 2))


def test_mmpretrain_to_csunet_loads_into_model(tiny_csunet_cfg, tmp_path):
    depths, decoder_depths = (2, 2, 2, 2), (3, 2, 1)
    backbone = SwinResMLP(embed_dims=32, depths=depths, num_heads=(1, 2, 4, 8))
    ckpt = {'meta': {'epoch': 1}, 'state_dict': {
        **{'backbone.' + k: v for k, v in backbone.state_dict().items()},
        'head.fc.weight': torch.randn(10, 256), 'head.fc.bias': torch.zeros(10)}}
    state, meta = mmpretrain_to_csunet(ckpt, decoder_depths)
    assert meta['swin']['prefix'] == 'backbone.'
    assert meta['swin']['outside_prefix'] == ['head.fc.bias', 'head.fc.weight']
    assert meta['mapping']['decode_head.layers_up.0.blocks.1'] == 'backbone.swin.layers.2.blocks.1'
    assert meta['decoder_not_initialised'] == ['decode_head.layers_up.0.blocks.2']
    path = str(tmp_path / 'csunet.pth')
    torch.save({'meta': meta, 'state_dict': state}, path)

    cfg = tiny_csunet_cfg(cnn=None)
    cfg.backbone.swin.update(depths=depths)
    # A decoder deeper than the encoder's mirror at stride 16 (3 blocks vs 2): CSUNet refuses it,
    # the plain EncoderDecoder assembles it.
    cfg.type = 'EncoderDecoder'
    cfg.decode_head.update(in_channels=[32, 64, 128, 256], channels=32, num_heads=(4, 2, 1),
                           decoder_depths=decoder_depths, bottleneck_depth=2, drop_path_rate=0.)
    model = MODELS.build(cfg)
    model.init_weights()
    load_checkpoint(model, path, map_location='cpu', strict=False)  # what `load_from` does
    swin, head = model.backbone.swin, model.decode_head
    for k, v in backbone.state_dict().items():
        assert torch.equal(swin.state_dict()[k], v), k
    for d, e in enumerate((2, 1, 0)):
        for j in range(min(depths[e], decoder_depths[d])):
            dec = head.layers_up[d].blocks[j].state_dict()
            enc = swin.layers[e].blocks[j].state_dict()
            assert dec.keys() == enc.keys()
            assert all(torch.equal(dec[k], enc[k]) for k in dec), (d, j)
    unmapped = head.layers_up[0].blocks[2].state_dict()
    assert not torch.equal(unmapped['attn.qkv.weight'], swin.layers[2].blocks[0].attn.qkv.weight)
    # The Swin branch alone, through Pretrained with the prefix.
    report = load_pretrained(SwinResMLP(embed_dims=32, depths=depths, num_heads=(1, 2, 4, 8)),
                             path, 'swin', prefix='backbone.swin.', min_loaded_ratio=1.0)
    assert not report.missing and not report.unexpected
