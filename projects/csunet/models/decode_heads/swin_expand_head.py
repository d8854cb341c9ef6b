"""Swin-Unet's expanding decoder, fusing CS-UNet's Swin and CNN skips at every level."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..backbones.swin_resmlp import (init_transformer_weights, mirrored_decoder_depths,
                                     resolve_depths)
from ..layers import PatchExpand, SwinResMLPStage
from .padded_logits_head import PaddedLogitsHead


@MODELS.register_module()
class SwinExpandDecoder(PaddedLogitsHead):
    """CS-UNet decoder (Swin-Unet's, with CNN skips).

    With Swin widths ``(C, 2C, 4C, 8C)`` (C = 96) and CNN widths ``(c4, c8, c16, c32)``:

    1. ``[bottleneck (8C), CNN stride-32 map (c32)]`` -> patch expand -> ``(H/16, W/16, 4C)``;
    2. at strides 16, 8, 4 (width D = 4C, 2C, C): ``[decoder, Swin skip, CNN skip]`` concatenated
       per token -> linear to D -> ``decoder_depths[i]`` Swin blocks -> patch expand (2x up, D/2),
       except at stride 4;
    3. LayerNorm, final 4x patch expand to ``(H, W, C)``, linear projection to ``num_classes``
       (mmseg's ``conv_seg``, a 1x1 convolution).

    Maps are channels-last token grids throughout; CNN maps are flattened from ``(B, C, H, W)``
    when concatenated. Without CNN skips (``in_channels`` of length 4) it is a plain Swin-Unet.

    Logits come out on the encoder's padded grid (a multiple of 32); :meth:`loss_by_feat` and
    :meth:`predict_by_feat` crop them back to the label / image size before mmseg's resize, so
    ``whole`` and ``slide`` inference work unchanged.

    Args:
        in_channels: Channels of the encoder outputs: 4 Swin levels then, optionally, 4 CNN levels
            (``CSUNetEncoder.out_channels``).
        channels: Width of the last decoder level, C (the input of ``conv_seg``).
        decoder_depths: Swin blocks at strides 16, 8, 4; or the encoder's Swin variant
            (``'original'``, ``'intermediate'``: the table :data:`SWIN_DEPTHS` of the backbone),
            whose stages 2, 1, 0 the decoder then mirrors (Swin-Unet), with that variant's
            ``bottleneck_depth``.
        num_heads: Attention heads at strides 16, 8, 4.
        window_size: Attention window side.
        mlp_ratio, qkv_bias, drop_rate, attn_drop_rate: As in :class:`SwinResMLP`.
        drop_path_rate: The *encoder's* stochastic-depth rate (set it equal to
            ``backbone.swin.drop_path_rate``). As in Swin-Unet and the official CS-UNet, the decoder
            reuses the encoder's schedule ``linspace(0, drop_path_rate, sum(encoder depths))``
            mirrored: the stride-16 level takes encoder stage 2's rates, stride 8 stage 1's,
            stride 4 stage 0's, so the rates fall toward the output.
        bottleneck_depth: Blocks of the encoder's last stage (2 in every Swin-T variant). With
            ``decoder_depths`` (the mirror of encoder stages 2, 1, 0) it gives the encoder's
            depths, hence its rate schedule.
        with_cp: Activation checkpointing of every decoder Swin block (see
            :class:`SwinResMLPStage`): less training memory, same outputs and gradients.
        selective_cp: Without ``with_cp``, recompute only the blocks' cheap ops in backward
            (see :class:`SwinResMLPStage`; on by default: same outputs and gradients).
        **kwargs: :class:`~mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments
            (``num_classes``, ``loss_decode``, ``dropout_ratio``, ...). ``in_index`` and
            ``input_transform`` are set here.

    Shape:
        - Input: the encoder's tuple (see :class:`CSUNetEncoder`).
        - Output: ``(B, num_classes, Hp, Wp)``, ``Hp = 4 * (height of the stride-4 Swin skip)``.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: int = 96,
                 decoder_depths: Union[str, Sequence[int]] = 'original',
                 num_heads: Sequence[int] = (12, 6, 3),
                 window_size: int = 8,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.2,
                 bottleneck_depth: int = 2,
                 with_cp: bool = False,
                 selective_cp: bool = True,
                 **kwargs) -> None:
        in_channels = list(in_channels)
        if len(in_channels) not in (4, 8):
            raise ValueError(f'SwinExpandDecoder.in_channels: 4 Swin (+4 CNN) widths expected, '
                             f'got {in_channels}')
        for key in ('in_index', 'input_transform'):
            if key in kwargs:
                raise KeyError(f'SwinExpandDecoder sets {key} itself; remove it from the config')
        super().__init__(
            in_channels=in_channels,
            channels=channels,
            in_index=list(range(len(in_channels))),
            input_transform='multiple_select',
            **kwargs)
        swin_dims, cnn_dims = in_channels[:4], in_channels[4:] or [0] * 4
        if swin_dims != [channels * 2**i for i in range(4)]:
            raise ValueError(f'Swin widths {swin_dims} must be channels * (1, 2, 4, 8) with '
                             f'channels={channels}')
        if isinstance(decoder_depths, str):
            encoder = resolve_depths(decoder_depths)
            if bottleneck_depth != encoder[-1]:
                raise ValueError(f'bottleneck_depth={bottleneck_depth} but the {decoder_depths!r} '
                                 f'encoder ends with {encoder[-1]} blocks')
            decoder_depths = mirrored_decoder_depths(encoder)
        if len(decoder_depths) != 3 or len(num_heads) != 3:
            raise ValueError('decoder_depths and num_heads need one entry per level (16, 8, 4)')
        self.has_cnn = len(in_channels) == 8
        # Encoder depths (stages 0..3) = decoder depths reversed + the bottleneck's.
        encoder_depths = list(decoder_depths[::-1]) + [bottleneck_depth]
        encoder_rates = torch.linspace(0, drop_path_rate, sum(encoder_depths)).tolist()

        # Level 0: bottleneck (+ CNN stride-32 map) -> stride 16.
        self.bottleneck_expand = PatchExpand(swin_dims[3] + cnn_dims[3], swin_dims[2])
        self.concat_linears = nn.ModuleList()
        self.layers_up = nn.ModuleList()
        for i, level in enumerate((2, 1, 0)):  # strides 16, 8, 4
            dim = swin_dims[level]
            self.concat_linears.append(nn.Linear(2 * dim + cnn_dims[level], dim))
            self.layers_up.append(
                SwinResMLPStage(
                    dim, decoder_depths[i], num_heads[i], window_size,
                    drop_path=encoder_rates[sum(encoder_depths[:level]):
                                            sum(encoder_depths[:level + 1])],
                    upsample=PatchExpand(dim, dim // 2) if level > 0 else None,
                    mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate,
                    attn_drop=attn_drop_rate, with_cp=with_cp,
                    selective_cp=selective_cp))
        self.norm_up = nn.LayerNorm(channels)
        self.final_expand = PatchExpand(channels, channels, scale=4)
        for module in (self.bottleneck_expand, self.concat_linears, self.layers_up,
                       self.norm_up, self.final_expand):
            module.apply(init_transformer_weights)

    #: Bytes of full-resolution ``channels``-wide features the classifier tail materialises at
    #: once (see :meth:`seg_tail`): at 512x512, batch 2, the whole map would be 200 MB per tensor.
    TAIL_CHUNK_BYTES = 32 * 2**20

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        feats = [f.permute(0, 2, 3, 1) for f in self._transform_inputs(inputs)]  # B, H, W, C
        swin, cnn = feats[:4], feats[4:]
        x = swin[3] if not self.has_cnn else torch.cat([swin[3], cnn[3]], dim=-1)
        x = self.bottleneck_expand.forward_patches(x)  # B, h, 2, w, 2, C
        for i, level in enumerate((2, 1, 0)):
            b, h, s, w, _, _ = x.shape
            # The skips are viewed in the expanded map's (B, h, 2, w, 2, C) patch layout, so the
            # concatenation is the one copy of the expanded tokens (no separate rearrangement).
            skips = [f.unflatten(1, (h, s)).unflatten(3, (w, s))
                     for f in [swin[level]] + ([cnn[level]] if self.has_cnn else [])]
            x = self.concat_linears[i](torch.cat([x] + skips, dim=-1).view(b, h * s, w * s, -1))
            x = self.layers_up[i].forward_blocks(x)
            if level > 0:
                x = self.layers_up[i].upsample.forward_patches(x)
        return self.seg_tail(self.norm_up(x))

    def _tail(self, x: Tensor) -> Tensor:
        """Final 4x patch expand and ``conv_seg`` on ``(B, h, w, C)`` tokens -> ``(B, K, 4h, 4w)``.

        The expansion's LayerNorm and the 1x1 classifier act on each token, so both run in the
        linear layer's ``(B, h, w, 16, C)`` order and only the K-channel logits are rearranged
        into pixels (instead of the C-channel map, twice: into patches, then to NCHW).
        """
        fe = self.final_expand
        b, h, w, _ = x.shape
        s, k = fe.scale, self.conv_seg.out_channels
        y = fe.norm(fe.expand(x).view(b, h, w, s * s, fe.out_dim))
        y = F.linear(y, self.conv_seg.weight.flatten(1), self.conv_seg.bias)
        return y.view(b, h, w, s, s, k).permute(0, 5, 1, 3, 2, 4).reshape(b, k, h * s, w * s)

    def seg_tail(self, x: Tensor) -> Tensor:
        """Logits ``(B, K, 4h, 4w)`` from the normalised stride-4 tokens ``(B, h, w, C)``.

        The full-resolution C-channel map is the largest tensor of the model, so the tail runs in
        chunks of input rows (:attr:`TAIL_CHUNK_BYTES`): without autograd each chunk's logits go
        straight into the output; in training each chunk is checkpointed (its expanded map is
        recomputed in backward, a chunk at a time) instead of kept for backward. Every pixel's
        math is the same as expand -> LayerNorm -> ``conv_seg`` on the whole map. With
        ``dropout_ratio > 0`` in training, mmseg's channel dropout needs the whole map: the
        unchunked :meth:`cls_seg` path runs.
        """
        if self.dropout is not None and self.training:
            return self.cls_seg(self.final_expand(x).permute(0, 3, 1, 2))
        b, h, w, c = x.shape
        s = self.final_expand.scale
        row_bytes = b * w * s * s * self.final_expand.out_dim * x.element_size()
        rows = max(1, self.TAIL_CHUNK_BYTES // row_bytes)
        if rows >= h:
            return self._tail(x)
        if torch.is_grad_enabled():
            return torch.cat([
                cp.checkpoint(self._tail, x[:, r:r + rows], use_reentrant=False)
                for r in range(0, h, rows)
            ], dim=2)
        out = None
        for r in range(0, h, rows):
            y = self._tail(x[:, r:r + rows])
            if out is None:
                out = y.new_empty(b, y.shape[1], h * s, w * s)
            out[:, :, r * s:(r + rows) * s] = y
        return out
