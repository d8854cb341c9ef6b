import pytest
import torch

from csunet.models.layers import WindowAttention
from csunet.models.layers.window_attention import relative_position_index


def reference_attention(attn: WindowAttention, x, mask=None):
    """Explicit softmax attention, the textbook Swin formula."""
    bn, n, c = x.shape
    h = attn.num_heads
    q, k, v = attn.qkv(x).reshape(bn, n, 3, h, c // h).permute(2, 0, 3, 1, 4)
    logits = (q * (c // h)**-0.5) @ k.transpose(-2, -1) + attn.relative_position_bias()
    if mask is not None:
        nw = mask.shape[0]
        logits = logits.view(bn // nw, nw, h, n, n) + mask[None, :, None]
        logits = logits.view(bn, h, n, n)
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(bn, n, c)
    return attn.proj(out)


def test_relative_position_index_matches_swin_definition():
    idx = relative_position_index(3)
    assert idx.shape == (9, 9)
    # token (0,0) vs (2,2): dy=-2, dx=-2 -> (0)*(5)+0 = 0; itself: (2)*5+2 = 12 (the centre).
    assert idx[0, 8] == 0 and idx[0, 0] == 12 and idx[8, 0] == 24
    assert idx.max() == 24 and idx.min() == 0


@pytest.mark.parametrize('with_mask', [False, True])
def test_sdpa_matches_explicit_softmax(with_mask):
    attn = WindowAttention(dim=12, num_heads=3, window_size=4).eval()
    torch.nn.init.normal_(attn.relative_position_bias_table, std=1.)
    x = torch.randn(2 * 3, 16, 12)  # B=2, nW=3
    mask = None
    if with_mask:
        mask = torch.zeros(3, 16, 16)
        mask[1, :, 8:] = -100.
        mask[2, 3, :] = -100.
    torch.testing.assert_close(attn(x, mask), reference_attention(attn, x, mask),
                               atol=1e-5, rtol=1e-5)


def test_rejects_heads_not_dividing_dim():
    with pytest.raises(ValueError, match='not divisible'):
        WindowAttention(dim=10, num_heads=3)
