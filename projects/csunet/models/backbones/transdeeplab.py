"""TransDeepLab's encoder (Azad et al. 2022): Swin-T stages 0-2 and the Swin spatial pyramid.

TransDeepLab replaces DeepLabv3+'s ResNet and atrous spatial pyramid pooling by Swin-T stages 0-2
and a *Swin* spatial pyramid (SSPP): one Swin stage per window size over the stride-16 map, the
levels concatenated, a CBAM attention and a linear back to the low-level width. Its decoder is
:class:`~csunet.models.decode_heads.TransDeepLabHead`.

Module and parameter names follow the official code (``patch_embed``, ``layers.i.blocks.j``,
``layers.i.downsample``, ``low_level_norm``; the SSPP as ``spp.layers.k`` and ``spp.proj``, the
official ``aspp``), so Microsoft Swin-T checkpoints load by name.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from timm.layers import PatchEmbed
from torch import nn

from ...fileio import ConversionError
from ..layers import PatchMerging, SwinResMLPStage
from ..utils import PretrainedLoadError
from ..utils.swin_convert import convert_swin_state_dict
from .pretrained_mixin import PretrainedBranchMixin
from .swin_resmlp import init_transformer_weights, resolve_depths

#: The official SSPP settings at 224² (stride-16 map 14 x 14), by number of pyramid levels: the
#: window sizes (the official code takes every divisor of the map side from its
#: ``start_window_size`` on: 14, 7, 2, 1 for 1-4 levels) and blocks per level (2, but 1 for the
#: window that covers the whole map). The paper's best model has 2 levels. At another input size
#: the official rule builds another model (at 512², map 32: windows 8, 16, 32 from 7 on), so our
#: configs always give the windows explicitly.
TRANSDEEPLAB_SPP_224: Dict[int, Dict[str, Tuple[int, ...]]] = {
    1: dict(spp_window_sizes=(14, ), spp_depths=(1, )),
    2: dict(spp_window_sizes=(7, 14), spp_depths=(2, 1)),
    3: dict(spp_window_sizes=(2, 7, 14), spp_depths=(2, 2, 1)),
    4: dict(spp_window_sizes=(1, 2, 7, 14), spp_depths=(2, 2, 2, 1)),
}


class ChannelAttention(nn.Module):
    """CBAM's channel attention: a shared bias-free bottleneck MLP (1x1 convolutions) on the
    spatial max and mean, summed, sigmoid.

    Shape:
        - Input: ``(B, C, H, W)``.
        - Output: ``(B, C, 1, 1)`` weights in (0, 1).
    """

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.se = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1, bias=False), nn.ReLU(),
            nn.Conv2d(channels // reduction, channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.se(x.amax(dim=(2, 3), keepdim=True)) +
                             self.se(x.mean(dim=(2, 3), keepdim=True)))


class SpatialAttention(nn.Module):
    """CBAM's spatial attention: channel max and mean -> ``kernel_size`` convolution -> sigmoid.

    Shape:
        - Input: ``(B, C, H, W)``.
        - Output: ``(B, 1, H, W)`` weights in (0, 1).
    """

    def __init__(self, kernel_size: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled))


class CBAMProjection(nn.Module):
    """TransDeepLab's fusion of the SSPP levels: residual CBAM (channel then spatial attention,
    Woo et al. 2018, with TransDeepLab's 1x1 spatial kernel) followed by a linear projection.

    Args:
        in_dim: Channels of the concatenated levels.
        out_dim: Output channels.
        reduction: Channel reduction of the attention MLP (12 in TransDeepLab).

    Shape:
        - Input: ``(B, H, W, in_dim)``.
        - Output: ``(B, H, W, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, reduction: int = 12) -> None:
        super().__init__()
        self.ca = ChannelAttention(in_dim, reduction)
        self.sa = SpatialAttention(kernel_size=1)
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)
        out = x * self.ca(x)
        out = out * self.sa(out)
        return self.proj((out + x).permute(0, 2, 3, 1))


class SwinSPP(nn.Module):
    """Swin spatial pyramid pooling: one Swin stage per window size on the same map, the stage
    outputs concatenated per token, fused by :class:`CBAMProjection`, then ReLU and dropout.

    Args:
        dim: Channels of the input map (Swin-T stage 2: 384).
        out_dim: Output channels (the low-level width, 96).
        window_sizes: Window side of each level, explicit (see :data:`TRANSDEEPLAB_SPP_224`).
        depths: Swin blocks of each level (same length as ``window_sizes``).
        num_heads: Attention heads of every level (3 in TransDeepLab).
        drop_path_rate: Stochastic depth of every block (one rate, as in the official code).
        dropout: Dropout after the activation.
        cbam_reduction: Channel reduction of the CBAM attention.
        **block_kwargs: Passed to :class:`~csunet.models.layers.SwinResMLPStage`.

    Shape:
        - Input: ``(B, H, W, dim)``.
        - Output: ``(B, H, W, out_dim)``.
    """

    def __init__(self,
                 dim: int,
                 out_dim: int,
                 window_sizes: Sequence[int],
                 depths: Sequence[int],
                 num_heads: int = 3,
                 drop_path_rate: float = 0.1,
                 dropout: float = 0.1,
                 cbam_reduction: int = 12,
                 **block_kwargs) -> None:
        super().__init__()
        if not window_sizes or len(window_sizes) != len(depths):
            raise ValueError(f'SwinSPP: one depth per window size needed, got window_sizes='
                             f'{tuple(window_sizes)} and depths={tuple(depths)}')
        self.window_sizes = tuple(window_sizes)
        self.layers = nn.ModuleList([
            SwinResMLPStage(dim, depth, num_heads, ws, drop_path=drop_path_rate, **block_kwargs)
            for ws, depth in zip(window_sizes, depths)
        ])
        self.proj = CBAMProjection(len(self.layers) * dim, out_dim, cbam_reduction)
        self.activation = nn.ReLU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([layer.forward_blocks(x) for layer in self.layers], dim=-1)
        return self.dropout(self.activation(self.proj(x)))


@MODELS.register_module()
class TransDeepLabEncoder(PretrainedBranchMixin, BaseModule):
    """TransDeepLab's encoder: Swin-T stages 0-2 (patch embedding, Swin blocks with plain MLPs,
    patch merging after stages 0 and 1) and the Swin spatial pyramid on stage 2's output.

    Outputs, as in the official ``SwinEncoder`` (``low_level_idx=0``, ``high_level_idx=2``, both
    after the blocks, low-level norm on, high-level norm off) followed by its ``SwinASPP``:

    * low level: stage 0's block output through a LayerNorm of its own (``low_level_norm``, not in
      Swin-T checkpoints), ``(B, C, H/4, W/4)``;
    * pyramid: :class:`SwinSPP` of stage 2's block output, ``(B, C, H/16, W/16)``.

    Input size: any H x W. The image is zero-padded at the bottom/right to a multiple of
    ``patch_size * 4`` (two patch mergings, and the decoder's 4x expansion of the pyramid must meet
    the stride-4 map); windows that do not tile a map are padded and masked inside each block.
    Outputs are on the padded grid; :class:`~csunet.models.decode_heads.TransDeepLabHead` crops
    its logits back.

    Pretrained weights (``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None,
    min_loaded_ratio=0.9)``): any Swin-T checkpoint :func:`convert_swin_state_dict` reads
    (Microsoft / timm / the authors' MicroLite files, files made by ``swin2csunet.py`` or
    ``mmpretrain2csunet.py`` with ``prefix='backbone.swin.'``), with bias tables interpolated to
    ``window_size``. The ratio and the loaded / missing / unexpected report cover the Swin-T part
    (``patch_embed``, ``layers``); the low-level norm and the pyramid, which Swin-T lacks, keep
    their initialisation (as in the official code). Tensors of Swin-T's stage 3, its final norm,
    ResMLP ``fc3`` layers and blocks deeper than ``depths`` are reported as unexpected.

    Args:
        in_channels: Image channels.
        embed_dims: Channels C of stage 0 (stage i has ``C * 2**i``).
        patch_size: Side of the patch embedding.
        depths: Blocks of stages 0-2: ``(2, 2, 6)`` (Swin-T, ``'original'``, the official setting)
            or ``(2, 2, 2)`` (``'intermediate'``), or a variant name of
            :data:`~csunet.models.backbones.SWIN_DEPTHS` (its first three stages).
        num_heads: Attention heads of stages 0-2.
        window_size: Window of the encoder stages (official: 7 at 224²; 8 tiles 512² and 1024²).
        mlp_ratio: Hidden width of the block MLPs relative to their input.
        qkv_bias: Bias in qkv projections.
        drop_rate: Dropout in MLPs and attention projections.
        attn_drop_rate: Dropout on attention weights.
        drop_path_rate: Stochastic depth of the encoder, rising linearly over its blocks.
        spp_window_sizes: Window side of each pyramid level, explicit
            (:data:`TRANSDEEPLAB_SPP_224` holds the official ones).
        spp_depths: Blocks of each pyramid level.
        spp_num_heads: Attention heads of every pyramid level.
        spp_drop_path_rate: Stochastic depth of every pyramid block.
        spp_dropout: Dropout after the pyramid's ReLU.
        with_cp: Activation checkpointing of every Swin block (less memory, same results).
        init_cfg: mmengine init config (see above for ``Pretrained``).

    Shape:
        - Input: ``(B, in_channels, H, W)``.
        - Output: ``((B, C, Hp/4, Wp/4), (B, C, Hp/16, Wp/16))`` with ``Hp = ceil(H / 16) * 16``
          (patch size 4); channels-last in memory (``permute`` views).
    """
    branch_name = 'transdeeplab.swin'

    def __init__(self,
                 in_channels: int = 3,
                 embed_dims: int = 96,
                 patch_size: int = 4,
                 depths: Union[str, Sequence[int]] = (2, 2, 6),
                 num_heads: Sequence[int] = (3, 6, 12),
                 window_size: int = 7,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 spp_window_sizes: Sequence[int] = TRANSDEEPLAB_SPP_224[2]['spp_window_sizes'],
                 spp_depths: Sequence[int] = TRANSDEEPLAB_SPP_224[2]['spp_depths'],
                 spp_num_heads: int = 3,
                 spp_drop_path_rate: float = 0.1,
                 spp_dropout: float = 0.1,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        depths = resolve_depths(depths)[:3] if isinstance(depths, str) else tuple(depths)
        if len(depths) != 3 or len(num_heads) != 3:
            raise ValueError(f'TransDeepLabEncoder uses Swin stages 0-2: need 3 depths and 3 '
                             f'num_heads, got depths={depths}, num_heads={tuple(num_heads)}')
        self.depths = depths
        self.embed_dims = embed_dims
        self.num_heads = tuple(num_heads)
        self.window_size = window_size
        self.patch_size = patch_size
        self.size_divisor = patch_size * 4
        self.num_features = [embed_dims * 2**i for i in range(3)]

        self.patch_embed = PatchEmbed(
            img_size=None, patch_size=patch_size, in_chans=in_channels, embed_dim=embed_dims,
            norm_layer=nn.LayerNorm, output_fmt='NHWC')
        self.pos_drop = nn.Dropout(drop_rate)
        block_kwargs: Dict[str, Any] = dict(mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate,
                                            attn_drop=attn_drop_rate, with_cp=with_cp, mlp='mlp')
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList()
        for i, depth in enumerate(depths):
            dim = self.num_features[i]
            self.layers.append(
                SwinResMLPStage(
                    dim, depth, self.num_heads[i], window_size,
                    drop_path=rates[sum(depths[:i]):sum(depths[:i + 1])],
                    downsample=PatchMerging(dim) if i < 2 else None, **block_kwargs))
        self.low_level_norm = nn.LayerNorm(embed_dims)
        self.spp = SwinSPP(
            self.num_features[2], embed_dims, spp_window_sizes, spp_depths, spp_num_heads,
            spp_drop_path_rate, spp_dropout, **block_kwargs)
        self.apply(init_transformer_weights)

    @property
    def out_channels(self) -> List[int]:
        """Channels of the low-level map and of the pyramid (both C)."""
        return [self.embed_dims, self.embed_dims]

    def pretrained_target(self) -> nn.Module:
        """The Swin-T part, under Swin-T's own names (shares the modules, no copy)."""
        view = nn.ModuleDict(dict(patch_embed=self.patch_embed, layers=self.layers))
        # Kept outside the module tree (registering it would list every parameter twice), so
        # that init_weights can pick up the report load_pretrained leaves on it.
        self.__dict__['_pretrained_view'] = view
        return view

    def init_weights(self) -> None:
        super().init_weights()
        view = self.__dict__.pop('_pretrained_view', None)
        if view is not None and hasattr(view, 'pretrained_report'):
            self.pretrained_report = view.pretrained_report

    def adapt_pretrained_state(self, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Swin-T checkpoint tensors under our names, bias tables at :attr:`window_size`."""
        try:
            return convert_swin_state_dict(state, self.window_size, fc3_init=None)[0]
        except ConversionError as e:
            raise PretrainedLoadError(f'[{self.branch_name}] {self.init_cfg["checkpoint"]!r}: '
                                      f'{e}') from e

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.size_divisor, -w % self.size_divisor
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        x = self.pos_drop(self.patch_embed(x))  # B, H/4, W/4, C
        low, x = self.layers[0](x)
        _, x = self.layers[1](x)
        high, _ = self.layers[2](x)  # B, H/16, W/16, 4C
        low = self.low_level_norm(low)
        return low.permute(0, 3, 1, 2), self.spp(high).permute(0, 3, 1, 2)
