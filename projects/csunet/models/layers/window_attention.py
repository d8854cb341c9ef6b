"""Window multi-head self-attention with a relative position bias (Swin), on PyTorch SDPA."""
from typing import Optional

import torch
import torch.nn.functional as F
from timm.layers import trunc_normal_
from torch import nn


def relative_position_index(window_size: int) -> torch.Tensor:
    """Index into the ``(2w-1)^2`` bias table for each (query, key) pair of a ``w x w`` window.

    Returns:
        LongTensor of shape ``(w*w, w*w)``.
    """
    coords = torch.stack(
        torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing='ij'))
    coords = coords.flatten(1)  # 2, N
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # N, N, 2
    rel = rel + (window_size - 1)
    return rel[..., 0] * (2 * window_size - 1) + rel[..., 1]


class WindowAttention(nn.Module):
    """Multi-head self-attention inside square windows, with relative position bias.

    The bias table and ``qkv``/``proj`` layers are laid out as in Microsoft's Swin
    (``relative_position_bias_table``, ``qkv``, ``proj``), so their checkpoints map one to one.
    Attention runs on :func:`torch.nn.functional.scaled_dot_product_attention`, with the bias
    (plus the shift/padding mask) passed as an additive ``attn_mask``.

    Args:
        dim: Channels C.
        num_heads: Attention heads; must divide ``dim``.
        window_size: Window side w (N = w*w tokens per window).
        qkv_bias: Whether ``qkv`` has a bias.
        attn_drop: Dropout on attention weights (training only).
        proj_drop: Dropout after the output projection.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 window_size: int = 8,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.dim = dim
        self.num_heads = num_heads
        self.window_size = window_size
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size - 1)**2, num_heads))
        # Derived from window_size, so not saved: checkpoints with a different window load too.
        self.register_buffer(
            'relative_position_index', relative_position_index(window_size), persistent=False)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        trunc_normal_(self.relative_position_bias_table, std=.02)

    def relative_position_bias(self) -> torch.Tensor:
        """The bias added to the attention logits, shape ``(num_heads, N, N)``."""
        n = self.window_size**2
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(n, n, -1).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Args:
            x: Window tokens, shape ``(B * nW, N, C)``, windows of one image contiguous.
            mask: Additive mask ``(nW, N, N)`` (0 or a large negative value), or None.

        Returns:
            Tensor of shape ``(B * nW, N, C)``.
        """
        bn, n, c = x.shape
        heads = self.num_heads
        qkv = self.qkv(x).reshape(bn, n, 3, heads, c // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B*nW, heads, N, d)
        attn_mask = self.relative_position_bias()  # heads, N, N
        if mask is None:
            attn_mask = attn_mask.unsqueeze(0)  # SDPA's fused CPU kernel takes 4-D masks only
        else:
            nw = mask.shape[0]
            attn_mask = attn_mask.unsqueeze(0) + mask.unsqueeze(1)  # nW, heads, N, N
            if bn > nw and attn_mask.requires_grad:
                # Training: SDPA runs its math kernel anyway (the bias needs a gradient), and it
                # takes any leading batch dims, so attention runs on (B, nW, heads, N, d) views
                # and the one mask broadcasts over the B images instead of being copied B times.
                q, k, v = (t.view(bn // nw, nw, heads, n, -1) for t in (q, k, v))
            elif bn > nw:
                # Without a gradient, SDPA's fused CPU kernel applies, but only to 4-D inputs.
                attn_mask = attn_mask.expand(bn // nw, -1, -1, -1, -1).reshape(bn, heads, n, n)
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask.to(q.dtype),
            dropout_p=self.attn_drop if self.training else 0.)
        x = x.reshape(bn, heads, n, -1).transpose(1, 2).reshape(bn, n, c)
        return self.proj_drop(self.proj(x))

    def extra_repr(self) -> str:
        return f'dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}'
