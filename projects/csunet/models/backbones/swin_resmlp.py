"""The Swin-T branch of CS-UNet: Swin Transformer with ResMLP feed-forward networks."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from timm.layers import PatchEmbed, trunc_normal_
from torch import nn

from ..layers import PatchMerging, SwinResMLPStage
from .pretrained_mixin import PretrainedBranchMixin

#: The Swin-T variants of the paper, one row each (mmpretrain's ``arch_zoo`` convention). The
#: decoder's depths and heads are not listed: they mirror the encoder's stages 2, 1, 0 (Swin-Unet),
#: see :func:`swin_unet_decoder_arch`, which the ``CSUNet`` segmentor applies at build time.
#: ``window_size`` 8 tiles the paper's 512² crops (512 / 32 = 16) and NASA's 1024² images.
SWIN_ARCHS: Dict[str, Dict[str, Any]] = {
    'original': dict(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=8,
                     drop_path_rate=0.2),
    'intermediate': dict(embed_dims=96, depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24),
                         window_size=8, drop_path_rate=0.2),
}

#: Blocks per stage of each variant (a view of :data:`SWIN_ARCHS`).
SWIN_DEPTHS = {name: arch['depths'] for name, arch in SWIN_ARCHS.items()}


def resolve_arch(arch: Union[str, Dict[str, Any]]) -> Dict[str, Any]:
    """A row of :data:`SWIN_ARCHS` by name, or a dict holding the same keys."""
    if isinstance(arch, str):
        if arch not in SWIN_ARCHS:
            raise KeyError(f'arch={arch!r}: use one of {sorted(SWIN_ARCHS)} or a dict')
        return dict(SWIN_ARCHS[arch])
    missing = set(SWIN_ARCHS['original']) - set(arch)
    if missing:
        raise KeyError(f'arch dict lacks {sorted(missing)}')
    return dict(arch)


def resolve_depths(depths: Union[str, Sequence[int]]) -> Tuple[int, ...]:
    """Blocks per stage: a variant name of :data:`SWIN_DEPTHS`, or the depths themselves."""
    if isinstance(depths, str):
        if depths not in SWIN_DEPTHS:
            raise KeyError(f'depths={depths!r}: use one of {sorted(SWIN_DEPTHS)} or a tuple')
        return SWIN_DEPTHS[depths]
    return tuple(depths)


def mirrored_decoder_depths(depths: Union[str, Sequence[int]]) -> Tuple[int, ...]:
    """Swin-Unet's decoder depths for an encoder: its stages S-2 .. 0, in that order (the decoder
    runs from stride 16 up), e.g. ``'original'`` (2, 2, 6, 2) -> (6, 2, 2)."""
    return tuple(resolve_depths(depths)[-2::-1])


def swin_unet_decoder_arch(encoder: 'SwinResMLP') -> Dict[str, Any]:
    """The :class:`SwinExpandDecoder` arguments that must agree with a built Swin encoder.

    Swin-Unet's decoder mirrors the encoder: width ``channels`` = the encoder's C, blocks and heads
    of encoder stages 2, 1, 0 at strides 16, 8, 4, the same window, and the encoder's
    stochastic-depth schedule (``drop_path_rate`` and the bottleneck's depth define it).
    """
    return dict(
        channels=encoder.embed_dims,
        decoder_depths=tuple(encoder.depths[-2::-1]),
        num_heads=tuple(encoder.num_heads[-2::-1]),
        bottleneck_depth=encoder.depths[-1],
        window_size=encoder.window_size,
        drop_path_rate=encoder.drop_path_rate)


#: What the Swin branch returns at the first S-1 strides (the last stage always gives its
#: normalised output, the bottleneck).
SKIP_SOURCES = ('stage_input', 'stage_output')


def init_transformer_weights(module: nn.Module) -> None:
    """Swin's initialisation: truncated normal (std 0.02) linears, unit LayerNorms."""
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


@MODELS.register_module()
class SwinResMLP(PretrainedBranchMixin, BaseModule):
    """Swin Transformer (Liu et al. 2021) whose block MLPs are ResMLPs (CS-UNet, Swin-T branch).

    Parameter names follow Microsoft's Swin (``patch_embed.proj``, ``layers.i.blocks.j.attn.qkv``,
    ``layers.i.downsample.reduction``, ...); Microsoft's final ``norm`` is ``norm{S-1}``
    (``norm3``), so Swin checkpoints convert by renaming only.

    Skips (``skip_source``), for every stage ``i < S-1`` in ``out_indices``:

    * ``'stage_input'`` (default; Swin-Unet's and the official CS-UNet's wiring): the map that
      *enters* stage i, un-normalised: the patch embedding (after its LayerNorm) for i = 0, the
      output of stage i-1's patch merging for i > 0. No extra parameters.
    * ``'stage_output'``: the output of stage i's blocks through a LayerNorm ``norm{i}`` of its
      own (mmseg's Swin convention; adds ``2 * C * (2**(S-1) - 1)`` parameters, 1,344 for C = 96).

    Stage ``S-1`` (the bottleneck) always returns ``norm{S-1}`` of its blocks' output, in both
    modes, as Microsoft's classifier and Swin-Unet do.

    Args:
        arch: A variant of :data:`SWIN_ARCHS` (``'original'``: depths (2, 2, 6, 2),
            ``'intermediate'``: (2, 2, 2, 2)) or a dict with the same keys. It gives every
            architecture argument below that is left None.
        in_channels: Image channels.
        embed_dims: Channels C of stage 0 (stage i has ``C * 2**i``).
        patch_size: Side of the non-overlapping patch embedding.
        depths: Blocks per stage, or a variant name (its depths only).
        num_heads: Attention heads per stage.
        window_size: Attention window side (8 fits 512 / 32 = 16 evenly).
        mlp_ratio: ResMLP hidden width relative to C.
        qkv_bias: Bias in qkv projections.
        drop_rate: Dropout in ResMLPs and attention projections.
        attn_drop_rate: Dropout on attention weights.
        drop_path_rate: Stochastic depth, rising linearly to this value over all blocks.
        out_indices: Stages whose maps are returned (see ``skip_source``).
        skip_source: ``'stage_input'`` or ``'stage_output'`` (see above).
        with_cp: Activation checkpointing of every block (see :class:`SwinResMLPStage`): less
            training memory for one more forward of the blocks, same outputs and gradients.
        selective_cp: Without ``with_cp``, recompute only the blocks' cheap ops in backward
            (see :class:`SwinResMLPStage`; on by default: same outputs and gradients).
        init_cfg: mmengine init config; ``dict(type='Pretrained', checkpoint=..., prefix=...)``
            loads with per-branch counts (see :func:`~csunet.models.utils.load_pretrained`).

    Shape:
        - Input: ``(B, in_channels, H, W)``, H and W multiples of ``patch_size * 2**(stages-1)``
          (:class:`CSUNetEncoder` pads to that).
        - Output: tuple of ``(B, C * 2**i, H / (patch_size * 2**i), W / (...))`` for i in
          ``out_indices``. Both skip sources have the same shapes. The maps are channels-last
          in memory (``permute`` views of the ``(B, H, W, C)`` token grids, not copies): the
          decoder permutes them straight back to tokens.
    """
    branch_name = 'swin'

    def __init__(self,
                 arch: Union[str, Dict[str, Any]] = 'original',
                 in_channels: int = 3,
                 embed_dims: Optional[int] = None,
                 patch_size: int = 4,
                 depths: Union[str, Sequence[int], None] = None,
                 num_heads: Optional[Sequence[int]] = None,
                 window_size: Optional[int] = None,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: Optional[float] = None,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 skip_source: str = 'stage_input',
                 with_cp: bool = False,
                 selective_cp: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        given = dict(embed_dims=embed_dims, depths=depths, num_heads=num_heads,
                     window_size=window_size, drop_path_rate=drop_path_rate)
        arch = {**resolve_arch(arch), **{k: v for k, v in given.items() if v is not None}}
        embed_dims, num_heads = arch['embed_dims'], tuple(arch['num_heads'])
        window_size, drop_path_rate = arch['window_size'], arch['drop_path_rate']
        depths = resolve_depths(arch['depths'])
        if len(num_heads) != len(depths):
            raise ValueError(f'{len(depths)} stages (depths={depths}) but '
                             f'{len(num_heads)} num_heads={tuple(num_heads)}')
        if not set(out_indices) <= set(range(len(depths))):
            raise ValueError(f'out_indices {tuple(out_indices)} outside 0..{len(depths) - 1}')
        if skip_source not in SKIP_SOURCES:
            raise ValueError(f'skip_source={skip_source!r}: use one of {SKIP_SOURCES}')
        self.depths = depths
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.window_size = window_size
        self.drop_path_rate = drop_path_rate
        self.skip_source = skip_source
        self.patch_size = patch_size
        self.out_indices = tuple(out_indices)
        self.num_features = [embed_dims * 2**i for i in range(len(depths))]
        self.size_divisor = patch_size * 2**(len(depths) - 1)

        self.patch_embed = PatchEmbed(
            img_size=None, patch_size=patch_size, in_chans=in_channels, embed_dim=embed_dims,
            norm_layer=nn.LayerNorm, output_fmt='NHWC')
        self.pos_drop = nn.Dropout(drop_rate)
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList()
        for i, depth in enumerate(depths):
            dim = self.num_features[i]
            self.layers.append(
                SwinResMLPStage(
                    dim, depth, num_heads[i], window_size,
                    drop_path=rates[sum(depths[:i]):sum(depths[:i + 1])],
                    downsample=PatchMerging(dim) if i < len(depths) - 1 else None,
                    mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate,
                    attn_drop=attn_drop_rate, with_cp=with_cp,
                    selective_cp=selective_cp))
        last = len(depths) - 1
        for i in self.out_indices:
            if i == last or skip_source == 'stage_output':
                self.add_module(f'norm{i}', nn.LayerNorm(self.num_features[i]))
        self.apply(init_transformer_weights)

    @property
    def out_channels(self) -> List[int]:
        return [self.num_features[i] for i in self.out_indices]

    def forward(self, x: torch.Tensor,
                token_hook: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
                ) -> Tuple[torch.Tensor, ...]:
        """``token_hook``: applied to the ``(B, H/4, W/4, C)`` patch tokens before the stages
        (SimMIM's mask token, :class:`SimMIMSwinResMLP`)."""
        if x.shape[-2] % self.size_divisor or x.shape[-1] % self.size_divisor:
            raise ValueError(f'SwinResMLP input {tuple(x.shape[-2:])} must be a multiple of '
                             f'{self.size_divisor}; CSUNetEncoder pads for you')
        x = self.patch_embed(x)  # B, H/4, W/4, C
        if token_hook is not None:
            x = token_hook(x)
        x = self.pos_drop(x)
        last = len(self.layers) - 1
        outs = []
        for i, stage in enumerate(self.layers):
            skip = i in self.out_indices
            if skip and i < last and self.skip_source == 'stage_input':
                outs.append(x.permute(0, 3, 1, 2))
                skip = False
            out, x = stage(x)
            if skip:
                outs.append(getattr(self, f'norm{i}')(out).permute(0, 3, 1, 2))
        return tuple(outs)
