"""TransDeepLabHead: the official decoder's structure and wiring, cropping, Swin-T init."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from csunet.models.decode_heads import TransDeepLabHead
from csunet.models.utils import PretrainedLoadError
from csunet.models.utils.swin_convert import interpolate_relative_position_bias_table

LOSS = dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3)
TINY = dict(in_channels=(8, 8), channels=16, depth=2, last_layer_depth=3, num_heads=2,
            window_size=4, num_classes=3, loss_decode=LOSS)


def block_rate(block):  # a zero rate is an Identity
    return getattr(block.drop_path, 'drop_prob', 0.)


def test_structure_follows_the_official_decoder():
    head = TransDeepLabHead(num_classes=9, window_size=7, loss_decode=LOSS)
    assert [len(s.blocks) for s in head.layers_up] == [2, 2]
    assert [len(s.blocks) for s in head.last_layers_up] == [6]
    # Channel-keeping patch expanding: C -> 4C linear, rearranged to 2x2 tokens of C.
    for stage, dim in [(head.layers_up[0], 96), (head.layers_up[1], 96),
                       (head.last_layers_up[0], 192)]:
        assert (stage.upsample.expand.in_features, stage.upsample.expand.out_features) == (
            dim, 4 * dim)
        assert stage.upsample.expand.bias is None and stage.upsample.out_dim == dim
        assert all(b.attn.num_heads == 3 and b.window_size == 7 for b in stage.blocks)
    assert head.final_up.out_dim == 192 and head.final_up.scale == 2
    assert head.norm_up.normalized_shape == (192, )
    assert head.conv_seg.bias is None and head.conv_seg.in_channels == 192
    assert head.dropout is None  # the official decoder has no dropout
    assert {block_rate(b) for s in head.layers_up for b in s.blocks} == {0.1}
    assert {block_rate(b) for b in head.last_layers_up[0].blocks} == {0.}


def test_channel_keeping_expand_layout():
    """Official ``rearrange('b h w (p1 p2 c) -> b (h p1) (w p2) c')`` then LayerNorm."""
    head = TransDeepLabHead(**TINY)
    up = head.layers_up[0].upsample
    x = torch.randn(1, 3, 5, 8)
    out = up(x)
    assert out.shape == (1, 6, 10, 8)
    wide = up.expand(x)
    for p1 in range(2):
        for p2 in range(2):
            part = wide[..., (2 * p1 + p2) * 8:(2 * p1 + p2 + 1) * 8]
            torch.testing.assert_close(out[:, p1::2, p2::2], up.norm(part))


def test_forward_wiring_by_hand():
    head = TransDeepLabHead(**TINY).eval()
    low = torch.randn(2, 8, 16, 24)
    pyramid = torch.randn(2, 8, 4, 6)
    logits = head((low, pyramid))
    assert logits.shape == (2, 3, 64, 96)  # 4x the stride-4 low-level map
    # pyramid -> 2 x (blocks, expand) -> concat [low, pyramid] -> blocks, expand -> norm ->
    # expand -> bias-free 1x1
    x = pyramid.permute(0, 2, 3, 1)
    for stage in head.layers_up:
        x = stage.upsample(stage.forward_blocks(x))
    x = torch.cat([low.permute(0, 2, 3, 1), x], dim=-1)
    stage = head.last_layers_up[0]
    x = head.final_up(head.norm_up(stage.upsample(stage.forward_blocks(x))))
    expected = torch.einsum('bhwc,kc->bkhw', x, head.conv_seg.weight.flatten(1))
    torch.testing.assert_close(logits, expected)
    with pytest.raises(ValueError, match='1/4 of the low-level'):
        head((low, torch.randn(2, 8, 5, 6)))


def test_argument_checks():
    with pytest.raises(ValueError, match=r'channels=24 must be 2 \* in_channels'):
        TransDeepLabHead(**{**TINY, 'channels': 24})
    with pytest.raises(KeyError, match='in_index'):
        TransDeepLabHead(**TINY, in_index=[0, 1])
    with pytest.raises(ValueError, match='equal'):
        TransDeepLabHead(**{**TINY, 'in_channels': (8, 16)})


def test_loss_and_predict_crop_the_padded_grid():
    head = TransDeepLabHead(**TINY)
    logits = torch.randn(1, 3, 32, 48, requires_grad=True)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 30, 41)))
    losses = head.loss_by_feat(logits, [sample])
    losses['loss_bce_dice'].backward()
    assert logits.grad[..., 30:, :].abs().sum() == 0 and logits.grad[..., :, 41:].abs().sum() == 0
    out = head.predict_by_feat(logits.detach(), [dict(img_shape=(30, 41), pad_shape=(30, 41))])
    torch.testing.assert_close(out, logits.detach()[..., :30, :41])


def two_stage_swin(path, embed=8, heads=(2, 4), window=7):
    """Swin stages 0-1 in Microsoft's layout (all a decoder init reads)."""
    state = {'patch_embed.proj.weight': torch.randn(embed, 3, 4, 4),
             'patch_embed.proj.bias': torch.randn(embed)}
    for i, h in enumerate(heads):
        c = embed * 2**i
        for j in range(2):
            b = f'layers.{i}.blocks.{j}.'
            shapes = {'norm1.weight': (c, ), 'norm1.bias': (c, ),
                      'attn.relative_position_bias_table': ((2 * window - 1)**2, h),
                      'attn.qkv.weight': (3 * c, c), 'attn.qkv.bias': (3 * c, ),
                      'attn.proj.weight': (c, c), 'attn.proj.bias': (c, ),
                      'norm2.weight': (c, ), 'norm2.bias': (c, ),
                      'mlp.fc1.weight': (4 * c, c), 'mlp.fc1.bias': (4 * c, ),
                      'mlp.fc2.weight': (c, 4 * c), 'mlp.fc2.bias': (c, )}
            state.update({b + k: torch.randn(s) for k, s in shapes.items()})
    state['layers.0.downsample.reduction.weight'] = torch.randn(2 * embed, 4 * embed)
    torch.save({'model': state}, path)
    return state


def test_decoder_initialised_from_swin_t_like_the_official_loader(tmp_path):
    src = two_stage_swin(tmp_path / 'swin.pth')
    head = TransDeepLabHead(**{**TINY, 'window_size': 8},
                            init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'swin.pth')))
    untouched = head.layers_up[0].state_dict()
    untouched = {k: v.clone() for k, v in untouched.items()}
    head.init_weights()
    report = head.pretrained_report
    # Stage 1's 4-head bias tables do not fit the 2-head decoder blocks (dropped officially too).
    assert sorted(k for k, *_ in report.mismatched) == [
        f'last_layers_up.0.blocks.{j}.attn.relative_position_bias_table' for j in range(2)]
    assert len(report.loaded) == 2 * 2 * 13 - 2 and report.loaded_ratio > 0.9
    state = head.state_dict()
    for dec, enc in (('layers_up.1', 'layers.0'), ('last_layers_up.0', 'layers.1')):
        for j in range(2):
            for name in ('attn.qkv.weight', 'mlp.fc2.bias', 'norm1.weight'):
                key = f'blocks.{j}.{name}'
                assert torch.equal(state[f'{dec}.{key}'], src[f'{enc}.{key}'])
    table = 'blocks.1.attn.relative_position_bias_table'
    resized = interpolate_relative_position_bias_table(src[f'layers.0.{table}'], 8)
    torch.testing.assert_close(state[f'layers_up.1.{table}'], resized)
    for k, v in head.layers_up[0].state_dict().items():  # no Swin-T counterpart
        assert torch.equal(v, untouched[k]), k
    torch.save({'model': {'conv.weight': torch.zeros(2)}}, tmp_path / 'cnn.pth')
    head = TransDeepLabHead(**TINY, init_cfg=dict(type='Pretrained',
                                                  checkpoint=str(tmp_path / 'cnn.pth')))
    with pytest.raises(PretrainedLoadError, match=r'cnn\.pth.*not a Swin checkpoint'):
        head.init_weights()
