import pytest
import torch

from csunet.models.layers import PatchExpand, PatchMerging, SwinResMLPBlock, SwinResMLPStage
from csunet.models.layers.swin_block import shifted_window_mask, window_partition, window_reverse


def test_window_partition_roundtrip():
    x = torch.randn(2, 16, 24, 5)
    w = window_partition(x, 8)
    assert w.shape == (2 * 6, 64, 5)
    torch.testing.assert_close(window_reverse(w, 8, 16, 24), x)


def test_shift_mask_matches_swin_regions():
    # 16x16 map, window 8, shift 4: Swin's mask lets window 0 see itself only, window 1 (top
    # right) splits into two 32-token regions, window 3 into four 16-token regions.
    mask = shifted_window_mask((16, 16), (16, 16), 8, (4, 4), torch.device('cpu'))
    allowed = (mask == 0).sum(-1)
    assert mask.shape == (4, 64, 64)
    assert allowed[0].eq(64).all() and allowed[1].eq(32).all() and allowed[3].eq(16).all()
    assert shifted_window_mask((16, 16), (16, 16), 8, (0, 0), torch.device('cpu')) is None


def test_padding_mask_excludes_padded_keys_only():
    mask = shifted_window_mask((6, 5), (8, 8), 8, (0, 0), torch.device('cpu'))
    allowed = (mask[0] == 0).view(64, 8, 8)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[:6, :5] = True
    assert (allowed == expected).all()


def test_padded_block_equals_attention_over_valid_tokens():
    """A 6x5 map padded to an 8x8 window attends exactly over its 30 real tokens."""
    block = SwinResMLPBlock(dim=8, num_heads=2, window_size=8).eval()
    torch.nn.init.normal_(block.attn.relative_position_bias_table, std=1.)
    x = torch.randn(1, 6, 5, 8)
    out = block._attention(x)
    # Reference: softmax over the 30 valid tokens with the bias of their relative positions.
    attn = block.attn
    tokens = x.reshape(1, 30, 8)
    q, k, v = attn.qkv(tokens).reshape(1, 30, 3, 2, 4).permute(2, 0, 3, 1, 4)
    idx = torch.tensor([r * 8 + c for r in range(6) for c in range(5)])
    bias = attn.relative_position_bias()[:, idx][:, :, idx]
    ref = ((q * 0.5) @ k.transpose(-2, -1) + bias).softmax(-1) @ v
    ref = attn.proj(ref.transpose(1, 2).reshape(1, 30, 8)).view(1, 6, 5, 8)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_shifted_block_stays_local():
    # Shifted windows never mix tokens across the wrap-around seam (the shift mask).
    block = SwinResMLPBlock(dim=8, num_heads=2, window_size=4, shift=True).eval()
    x = torch.randn(1, 16, 16, 8)
    out = block(x)
    assert out.shape == x.shape and torch.isfinite(out).all()
    # Tokens far from the wrap-around seam are unaffected by a change at the other corner.
    y = x.clone()
    y[:, 12:, 12:] += 5.
    assert torch.allclose(block(y)[:, :4, :4], out[:, :4, :4], atol=1e-6)


@pytest.mark.parametrize('size', [(8, 8), (7, 13), (1, 1), (9, 16)])
def test_stage_any_size(size):
    stage = SwinResMLPStage(16, 2, 2, window_size=4, downsample=None)
    x = torch.randn(2, *size, 16)
    skip, out = stage(x)
    assert skip.shape == out.shape == x.shape and torch.isfinite(out).all()


def test_patch_merging_order_is_microsoft_swin():
    merge = PatchMerging(1)
    with torch.no_grad():
        merge.reduction.weight.zero_()
        merge.reduction.weight[0, 1] = 1.  # second chunk = x[1::2, 0::2]
    merge.norm = torch.nn.Identity()
    x = torch.arange(16.).view(1, 4, 4, 1)
    assert merge(x)[0, :, :, 0].tolist() == [[4., 6.], [12., 14.]]
    with pytest.raises(ValueError, match='even'):
        merge(torch.randn(1, 3, 4, 1))


def test_patch_expand_rearranges_channels_into_patches():
    expand = PatchExpand(in_dim=4, out_dim=1, scale=2)
    with torch.no_grad():
        expand.expand.weight.copy_(torch.eye(4))
    expand.norm = torch.nn.Identity()
    x = torch.tensor([1., 2., 3., 4.]).view(1, 1, 1, 4)
    assert expand(x)[0, :, :, 0].tolist() == [[1., 2.], [3., 4.]]
    assert PatchExpand(96, 96, scale=4)(torch.randn(2, 3, 5, 96)).shape == (2, 12, 20, 96)
