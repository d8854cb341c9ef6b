"""Swin Transformer block and stage with a ResMLP feed-forward, for any feature-map size."""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from timm.layers import DropPath, Mlp
from torch import nn

from ..utils.checkpoint import checkpoint
from .res_mlp import ResMLP
from .window_attention import WindowAttention

#: Additive logit for masked (query, key) pairs. Finite (as in Swin) so that a window made only of
#: padding still gives a defined softmax instead of NaN.
MASK_VALUE = -100.


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """``(B, H, W, C)`` -> ``(B * nW, w*w, C)``; H and W must be multiples of w."""
    b, h, w, c = x.shape
    x = x.view(b, h // window_size, window_size, w // window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size * window_size, c)


def window_reverse(windows: torch.Tensor, window_size: int, h: int, w: int) -> torch.Tensor:
    """``(B * nW, w*w, C)`` -> ``(B, H, W, C)``; inverse of :func:`window_partition`."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window_size, w // window_size, window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


def shifted_window_mask(size: Tuple[int, int], padded: Tuple[int, int], window_size: int,
                        shift: Tuple[int, int], device: torch.device) -> Optional[torch.Tensor]:
    """Additive attention mask for shifted and/or padded windows.

    Tokens may attend to each other only if they come from the same region of the un-shifted map
    (Swin's shift mask) and keys that are padding are never attended.

    Args:
        size: Valid (H, W) of the feature map.
        padded: (Hp, Wp) after padding to multiples of ``window_size``.
        window_size: Window side w.
        shift: Cyclic shift (sh, sw), 0 for no shift along that axis.
        device: Device of the mask.

    Returns:
        Tensor ``(nW, w*w, w*w)`` with 0 or :data:`MASK_VALUE`, or None if nothing is masked.
    """
    (h, w), (hp, wp) = size, padded
    if not any(shift) and (hp, wp) == (h, w):
        return None
    region = torch.zeros(hp, wp, device=device)
    for axis, (length, s) in enumerate(((hp, shift[0]), (wp, shift[1]))):
        if s:
            # Regions along this axis in the shifted map: [0, L-w), [L-w, L-s), [L-s, L).
            bounds = torch.tensor([length - window_size, length - s], device=device)
            labels = torch.bucketize(torch.arange(length, device=device), bounds, right=True)
            region = region * 3 + (labels.view(-1, 1) if axis == 0 else labels.view(1, -1))
    valid = torch.zeros(hp, wp, device=device)
    valid[:h, :w] = 1
    valid = torch.roll(valid, shifts=(-shift[0], -shift[1]), dims=(0, 1))
    region = window_partition(region.view(1, hp, wp, 1), window_size).squeeze(-1)  # nW, N
    valid = window_partition(valid.view(1, hp, wp, 1), window_size).squeeze(-1)
    allowed = (region.unsqueeze(1) == region.unsqueeze(2)) & (valid.unsqueeze(1) > 0)
    return torch.zeros(allowed.shape, device=device).masked_fill(~allowed, MASK_VALUE)


#: Feed-forward networks a block can use: CS-UNet's ResMLP, or Swin's own two-layer MLP (for the
#: comparison models, HiFormer and TransDeepLab, which keep Swin-T unchanged).
BLOCK_MLPS = ('resmlp', 'mlp')


class SwinResMLPBlock(nn.Module):
    """Swin Transformer block (W-MSA or SW-MSA) whose MLP is a :class:`ResMLP` (or, with
    ``mlp='mlp'``, Swin's plain two-layer MLP).

    Any H x W works: the normalised map is padded at the bottom/right to a multiple of the window,
    attention masks exclude padded keys (and, for shifted blocks, tokens from other regions), and
    the output is cropped back. A block only shifts along an axis with more than one window.

    Args:
        dim: Channels C.
        num_heads: Attention heads.
        window_size: Window side.
        shift: Whether this is a shifted-window block (shift = window_size // 2).
        mlp_ratio: Hidden width of ResMLP's ``fc1`` relative to C.
        qkv_bias: Bias in the qkv projection.
        drop: Dropout in ResMLP and after the attention projection.
        attn_drop: Dropout on attention weights.
        drop_path: Stochastic depth rate of both residual branches.
        norm_layer: Normalisation class.
        mlp: ``'resmlp'`` (CS-UNet) or ``'mlp'`` (Swin's ``fc1 -> GELU -> fc2``, timm's
            :class:`~timm.layers.Mlp`); both name their first and last linear ``fc1``/``fc2``
            like Microsoft's checkpoints.

    Shape:
        - Input: ``(B, H, W, C)``.
        - Output: ``(B, H, W, C)``.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 window_size: int = 8,
                 shift: bool = False,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 norm_layer: type = nn.LayerNorm,
                 mlp: str = 'resmlp') -> None:
        super().__init__()
        if mlp not in BLOCK_MLPS:
            raise ValueError(f'mlp={mlp!r}: use one of {BLOCK_MLPS}')
        self.window_size = window_size
        self.shift_size = window_size // 2 if shift else 0
        self.norm1 = norm_layer(dim)
        self.attn = WindowAttention(dim, num_heads, window_size, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = (ResMLP(dim, int(dim * mlp_ratio), drop=drop) if mlp == 'resmlp' else
                    Mlp(dim, int(dim * mlp_ratio), drop=drop))
        self._mask_cache: Dict[tuple, Optional[torch.Tensor]] = {}

    def _mask(self, size: Tuple[int, int], padded: Tuple[int, int], shift: Tuple[int, int],
              device: torch.device) -> Optional[torch.Tensor]:
        key = (size, padded, shift, str(device))
        if key not in self._mask_cache:
            if len(self._mask_cache) > 16:  # bounded: sizes vary little within one run
                self._mask_cache.clear()
            self._mask_cache[key] = shifted_window_mask(size, padded, self.window_size, shift,
                                                        device)
        return self._mask_cache[key]

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        ws = self.window_size
        hp, wp = math.ceil(h / ws) * ws, math.ceil(w / ws) * ws
        if (hp, wp) != (h, w):  # F.pad copies even when it pads nothing
            x = F.pad(x, (0, 0, 0, wp - w, 0, hp - h))
        shift = (self.shift_size if hp > ws else 0, self.shift_size if wp > ws else 0)
        if any(shift):
            x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
        windows = self.attn(window_partition(x, ws), self._mask((h, w), (hp, wp), shift, x.device))
        x = window_reverse(windows, ws, hp, wp)
        if any(shift):
            x = torch.roll(x, shifts=shift, dims=(1, 2))
        return x[:, :h, :w, :] if (hp, wp) != (h, w) else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self._attention(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class SwinResMLPStage(nn.Module):
    """A sequence of Swin blocks alternating regular and shifted windows, plus an optional
    resampling layer (patch merging in the encoder, patch expanding in the decoder).

    The resampler is stored as ``downsample`` or ``upsample`` (Microsoft Swin / Swin-Unet names,
    which keeps checkpoints mappable). :meth:`forward` returns both the block output (a skip
    connection) and the resampled map.

    Args:
        dim: Channels C.
        depth: Number of blocks.
        num_heads: Attention heads.
        window_size: Window side.
        drop_path: Stochastic depth rate, one float for all blocks or one per block.
        downsample: Module applied after the blocks in the encoder, or None.
        upsample: Module applied after the blocks in the decoder, or None.
        with_cp: Activation checkpointing: keep only each block's input during training and
            recompute the block in backward (less memory, one more forward of the blocks; same
            outputs and gradients, dropout / drop-path masks included, as the RNG state is
            replayed).
        selective_cp: Selective activation checkpointing when ``with_cp`` is off (the
            default): in training, each block keeps only its input and its matrix-product
            outputs for backward and recomputes its normalisations, activations, softmax,
            additions and layout copies there (:func:`csunet.models.utils.checkpoint.checkpoint`
            with ``selective=True``): about half a block's saved memory; same outputs and
            gradients. Only for maps of at least :attr:`SELECTIVE_CP_MIN_BYTES` (2 MiB: at
            512², batch 2, every level but the bottleneck; at 128², batch 4, none): on small
            maps the per-op overhead of the recomputation outweighs the little memory it
            saves (a 128², batch-4 CPU step: median 8.5 s with it on every block, 7.2 s
            without).
        **block_kwargs: Passed to :class:`SwinResMLPBlock`.

    Shape:
        - Input: ``(B, H, W, C)``.
        - Output: ``((B, H, W, C), resampled map or the same tensor)``.
    """

    #: Smallest block input (bytes) for which ``selective_cp`` recomputes.
    SELECTIVE_CP_MIN_BYTES = 2 * 2**20

    def __init__(self,
                 dim: int,
                 depth: int,
                 num_heads: int,
                 window_size: int = 8,
                 drop_path: Union[float, Sequence[float]] = 0.,
                 downsample: Optional[nn.Module] = None,
                 upsample: Optional[nn.Module] = None,
                 with_cp: bool = False,
                 selective_cp: bool = True,
                 **block_kwargs) -> None:
        super().__init__()
        self.with_cp = with_cp
        self.selective_cp = selective_cp
        if downsample is not None and upsample is not None:
            raise ValueError('a stage resamples one way: give downsample or upsample, not both')
        rates = [drop_path] * depth if isinstance(drop_path, (int, float)) else list(drop_path)
        if len(rates) != depth:
            raise ValueError(f'{len(rates)} drop_path rates for {depth} blocks')
        self.blocks = nn.ModuleList([
            SwinResMLPBlock(
                dim, num_heads, window_size, shift=i % 2 == 1, drop_path=rates[i],
                **block_kwargs) for i in range(depth)
        ])
        if downsample is not None:
            self.downsample = downsample
        if upsample is not None:
            self.upsample = upsample

    def forward_blocks(self, x: torch.Tensor) -> torch.Tensor:
        """The blocks alone (no resampling)."""
        training = self.training and torch.is_grad_enabled()
        selective = (training and self.selective_cp
                     and x.numel() * x.element_size() >= self.SELECTIVE_CP_MIN_BYTES)
        for block in self.blocks:
            if training and self.with_cp:
                x = checkpoint(block, x)
            elif selective:
                x = checkpoint(block, x, selective=True)
            else:
                x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.forward_blocks(x)
        resample = getattr(self, 'downsample', None) or getattr(self, 'upsample', None)
        return x, (resample(x) if resample is not None else x)
