"""HiFormer's encoder (Heidari et al. 2023): a ResNet and Swin-T stages 0-2 side by side, fused
by the Double-Level Fusion (DLF) module.

The ResNet (cut after ``layer3``; strides 4, 8, 16) provides the tokens: its stride-4 map,
projected by a 1x1 convolution to Swin's width, is the input of Swin-T stage 0 (no patch
embedding), and at each level the 1x1 projection of the ResNet map is added to the Swin tokens.
The DLF gives each of the stride-4 and stride-16 levels a CLS token (the mean of its normalised
tokens) and lets each CLS token attend to the other level's tokens (CrossViT's cross-attention,
Chen et al. 2021) before a ViT block per level. Its decoder is
:class:`~csunet.models.decode_heads.HiFormerHead`.

Module names follow the official code (amirhossein-kz/HiFormer) where they are not merely
positional: the Swin part in Microsoft's layout (``swin.layers.i.blocks.j``, the official
``p1_pm`` / ``p2_pm`` as ``swin.layers.{0,1}.downsample``), the DLF's ``pos_embed``,
``blocks.k.{blocks, projs, fusion, revert_projs}`` and ``norm``; the ResNet is timm's
(``cnn.model.layer1`` ...), which has torchvision's architecture and tensor names.

Two defects of the official code, reproduced only on request (``official_*`` arguments):

1. ``All2Cross`` applies its weight initialisation to the whole encoder *after* the pretrained
   Swin-T weights were loaded, so every Swin Linear and LayerNorm (patch mergings included) is
   re-initialised; only the relative position bias tables survive. By default we keep the
   loaded weights, as the paper intends (``official_swin_reinit``).
2. ``MultiScaleBlock`` computes each level's ViT blocks on the fused tokens but returns its
   input patch tokens with the new CLS tokens, which the decoder drops: the fusion (CLS tokens,
   projections, cross-attention, ViT blocks) has no effect on the logits and receives no
   gradient. By default we return the blocks' output, so the cross-level information reaches
   the patch tokens through self-attention (``official_dlf_output``).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from timm.layers import DropPath, trunc_normal_
from timm.models.vision_transformer import Block
from torch import nn

from ...fileio import ConversionError
from ..layers import PatchMerging, SwinResMLPStage
from ..utils import PretrainedLoadError
from ..utils.swin_convert import convert_swin_state_dict
from .pretrained_mixin import PretrainedBranchMixin
from .swin_resmlp import init_transformer_weights, resolve_depths
from .timm_cnn import TimmCNN

#: The official variants (configs/HiFormer_configs.py): the ResNet and the DLF settings, one
#: ``(depth of the stride-4 branch, depth of the stride-16 branch, cross-attention depth)``
#: triple per fusion block, heads and ViT MLP ratios of the two branches. Everything else is
#: shared: Swin-T stages 0-2 (depths 2, 2, 6; heads 3, 6, 12; window 7 at 224²).
HIFORMER_ARCHS: Dict[str, Dict[str, object]] = {
    's': dict(cnn='resnet34', dlf_depths=((1, 1, 0), ), dlf_num_heads=(3, 3),
              dlf_mlp_ratios=(1., 1.)),
    'b': dict(cnn='resnet50', dlf_depths=((1, 2, 0), ), dlf_num_heads=(6, 12),
              dlf_mlp_ratios=(2., 2.)),
    'l': dict(cnn='resnet34', dlf_depths=((1, 4, 0), ), dlf_num_heads=(6, 6),
              dlf_mlp_ratios=(4., 4.)),
}


class CrossAttention(nn.Module):
    """CrossViT's cross-attention: the first token (the CLS token) is the only query, all
    tokens are keys and values.

    Shape:
        - Input: ``(B, N, C)``.
        - Output: ``(B, 1, C)``.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, attn_drop: float = 0.,
                 proj_drop: float = 0.) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'CrossAttention: dim {dim} is not divisible by num_heads '
                             f'{num_heads}')
        self.num_heads = num_heads
        self.wq = nn.Linear(dim, dim, bias=qkv_bias)
        self.wk = nn.Linear(dim, dim, bias=qkv_bias)
        self.wv = nn.Linear(dim, dim, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        heads = self.num_heads
        q = self.wq(x[:, :1]).view(b, 1, heads, c // heads).transpose(1, 2)
        k = self.wk(x).view(b, n, heads, c // heads).transpose(1, 2)
        v = self.wv(x).view(b, n, heads, c // heads).transpose(1, 2)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)  # B, heads, 1, d
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, 1, c)))


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention with a residual on the CLS token (no MLP, as HiFormer builds it).

    Shape:
        - Input: ``(B, N, C)``, the CLS token first.
        - Output: ``(B, 1, C)``, the updated CLS token.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, drop: float = 0.,
                 attn_drop: float = 0., drop_path: float = 0.) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = CrossAttention(dim, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1] + self.drop_path(self.attn(self.norm1(x)))


class CrossLevelBlock(nn.Module):
    """One fusion block of the DLF (the official ``MultiScaleBlock``) on the two levels.

    For each level i (and the other level o): its CLS token is projected to o's width
    (``projs``: LayerNorm, GELU, Linear), attends to o's patch tokens (``fusion``), is projected
    back (``revert_projs``) and replaces i's CLS token; then i's ViT blocks (``blocks``, timm's
    :class:`~timm.models.vision_transformer.Block`, global self-attention) run on the level.

    Args:
        dims: Widths of the two levels.
        depths: ``(ViT blocks of level 0, of level 1, cross-attention blocks)``; 0 cross blocks
            means one, as in the official code (which then stores it without a Sequential).
        num_heads: Heads of the two levels (a cross-attention at o's width has o's heads).
        mlp_ratios: ViT MLP ratios of the two levels.
        qkv_bias: Bias of every query/key/value projection.
        drop: Dropout after the cross-attention projection.
        attn_drop: Dropout on attention weights.
        drop_path: Stochastic depth per ViT block index (the cross blocks take the last rate),
            or one rate for all.
        official_output: Return the levels *before* the ViT blocks, as the official code does
            (the blocks are then not run).

    Shape:
        - Input: two ``(B, 1 + N_i, C_i)`` token sequences, CLS first.
        - Output: the same shapes.
    """

    def __init__(self, dims: Sequence[int], depths: Sequence[int], num_heads: Sequence[int],
                 mlp_ratios: Sequence[float], qkv_bias: bool = True, drop: float = 0.,
                 attn_drop: float = 0., drop_path: Union[float, Sequence[float]] = 0.,
                 official_output: bool = False) -> None:
        super().__init__()
        self.official_output = official_output
        if isinstance(drop_path, (int, float)):
            drop_path = [float(drop_path)] * max(1, *depths[:2])
        self.blocks = nn.ModuleList([
            nn.Sequential(*[
                # The official call passes no proj_drop (always 0) and timm's default norm.
                Block(dims[d], num_heads[d], mlp_ratio=mlp_ratios[d], qkv_bias=qkv_bias,
                      attn_drop=attn_drop, drop_path=drop_path[i]) for i in range(depths[d])
            ]) for d in range(2)
        ])
        self.projs = nn.ModuleList([
            nn.Sequential(nn.LayerNorm(dims[d]), nn.GELU(), nn.Linear(dims[d], dims[1 - d]))
            for d in range(2)
        ])

        def cross(o: int) -> CrossAttentionBlock:
            return CrossAttentionBlock(dims[o], num_heads[o], qkv_bias, drop, attn_drop,
                                       drop_path[-1])

        self.fusion = nn.ModuleList([
            cross(1 - d) if depths[2] == 0 else nn.Sequential(
                *[cross(1 - d) for _ in range(depths[2])]) for d in range(2)
        ])
        self.revert_projs = nn.ModuleList([
            nn.Sequential(nn.LayerNorm(dims[1 - d]), nn.GELU(), nn.Linear(dims[1 - d], dims[d]))
            for d in range(2)
        ])

    def forward(self, xs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        cls = [proj(x[:, :1]) for x, proj in zip(xs, self.projs)]
        outs = []
        for i in range(2):
            other = torch.cat([cls[i], xs[1 - i][:, 1:]], dim=1)
            fused = self.revert_projs[i](self.fusion[i](other)[:, :1])
            outs.append(torch.cat([fused, xs[i][:, 1:]], dim=1))
        if self.official_output:
            return outs
        return [blocks(x) for x, blocks in zip(outs, self.blocks)]


class DoubleLevelFusion(nn.Module):
    """HiFormer's DLF (the official ``All2Cross`` without its pyramid, plus the CLS tokens the
    official pyramid computes, ``norm_1`` / ``norm_2`` there, ``cls_norm`` here).

    Each level's CLS token is the token mean of its LayerNorm-ed map; CLS and patch tokens get a
    learnt position embedding (``pos_embed``, sized for ``grid_sizes``, the maps of a
    ``img_size`` input; bicubically resized for other maps, the CLS entry kept), pass the
    :class:`CrossLevelBlock` s and a final LayerNorm (``norm``); the CLS tokens are dropped.

    Args:
        dims: Widths of the two levels (96, 384).
        grid_sizes: Side of each level's map at the reference input size (56, 14 at 224²).
        depths: One ``(d0, d1, d_cross)`` triple per :class:`CrossLevelBlock`.
        num_heads, mlp_ratios, qkv_bias, drop, attn_drop: See :class:`CrossLevelBlock`.
        drop_path_rate: Stochastic depth, rising linearly over the fusion blocks' ViT depth
            ``max(d0, d1) + d_cross`` each (the official rule; it sizes the schedule by
            ``d1 + d_cross``, the same whenever ``d0 <= d1``, as in every official variant).
        official_output: See :class:`CrossLevelBlock`.

    Shape:
        - Input: two channels-last maps ``(B, H_i, W_i, C_i)``.
        - Output: two ``(B, C_i, H_i, W_i)`` maps (``permute`` views, channels-last in memory).
    """

    def __init__(self, dims: Sequence[int] = (96, 384), grid_sizes: Sequence[int] = (56, 14),
                 depths: Sequence[Sequence[int]] = ((1, 2, 0), ),
                 num_heads: Sequence[int] = (6, 12), mlp_ratios: Sequence[float] = (2., 2.),
                 qkv_bias: bool = True, drop: float = 0., attn_drop: float = 0.,
                 drop_path_rate: float = 0., official_output: bool = False) -> None:
        super().__init__()
        for d in depths:
            if len(d) != 3 or min(d) < 0:
                raise ValueError(f'DoubleLevelFusion.depths: (d0, d1, d_cross) triples of '
                                 f'non-negative ints expected, got {tuple(map(tuple, depths))}')
        if len(dims) != 2 or len(num_heads) != 2 or len(mlp_ratios) != 2:
            raise ValueError(f'DoubleLevelFusion fuses 2 levels: dims={tuple(dims)}, num_heads='
                             f'{tuple(num_heads)}, mlp_ratios={tuple(mlp_ratios)}')
        self.grid_sizes = tuple(grid_sizes)
        self.cls_norm = nn.ModuleList([nn.LayerNorm(c) for c in dims])
        self.pos_embed = nn.ParameterList(
            [nn.Parameter(torch.zeros(1, 1 + g * g, c)) for g, c in zip(grid_sizes, dims)])
        lengths = [max(d[:2]) + d[2] for d in depths]
        rates = torch.linspace(0, drop_path_rate, sum(lengths)).tolist()
        self.blocks = nn.ModuleList([
            CrossLevelBlock(dims, d, num_heads, mlp_ratios, qkv_bias, drop, attn_drop,
                            rates[sum(lengths[:k]):sum(lengths[:k + 1])] or [0.],
                            official_output) for k, d in enumerate(depths)
        ])
        self.norm = nn.ModuleList([nn.LayerNorm(c) for c in dims])
        for p in self.pos_embed:
            trunc_normal_(p, std=.02)

    def position_embedding(self, i: int, h: int, w: int) -> torch.Tensor:
        """Level i's embedding for an ``h x w`` map: ``(1, 1 + h*w, C_i)``."""
        pos = self.pos_embed[i]
        g = self.grid_sizes[i]
        if (h, w) == (g, g):
            return pos
        grid = pos[:, 1:].reshape(1, g, g, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode='bicubic', align_corners=False)
        return torch.cat([pos[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)

    def forward(self, maps: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        shapes = [m.shape[1:3] for m in maps]
        xs = []
        for i, m in enumerate(maps):
            tokens = m.flatten(1, 2)  # B, HW, C
            cls = self.cls_norm[i](tokens).mean(dim=1, keepdim=True)
            xs.append(torch.cat([cls, tokens], dim=1) + self.position_embedding(i, *shapes[i]))
        for block in self.blocks:
            xs = block(xs)
        outs = []
        for i, ((h, w), x) in enumerate(zip(shapes, xs)):
            x = self.norm[i](x[:, 1:])  # per-token norm: dropping the CLS first is the same
            outs.append(x.view(x.shape[0], h, w, -1).permute(0, 3, 1, 2))
        return outs[0], outs[1]


class HiFormerSwin(PretrainedBranchMixin, BaseModule):
    """The Swin-T part of HiFormer: stages 0-2 (Swin's plain MLP) and the patch mergings after
    stages 0 and 1, under Microsoft's names, so Swin-T checkpoints load by name.

    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None, min_loaded_ratio=0.9)``
    takes any Swin-T checkpoint :func:`convert_swin_state_dict` reads (Microsoft / timm /
    MicroLite files, ``swin2csunet.py`` / ``mmpretrain2csunet.py`` output with
    ``prefix='backbone.swin.'``), bias tables interpolated to the window; Swin-T's patch
    embedding, stage 3, last patch merging and final norm, ResMLP ``fc3`` layers and blocks
    deeper than ``depths`` are reported as unexpected.

    Args:
        official_reinit: After :meth:`init_weights` (which loads the checkpoint), re-initialise
            every Linear and LayerNorm (truncated normal 0.02 / unit), as the official code
            does; only the relative position bias tables keep their loaded values.
        Others: see :class:`HiFormerEncoder`.

    Shape: :meth:`forward` is not used; :class:`HiFormerEncoder` calls the stages itself.
    """
    branch_name = 'hiformer.swin'

    def __init__(self, embed_dims: int = 96, depths: Sequence[int] = (2, 2, 6),
                 num_heads: Sequence[int] = (3, 6, 12), window_size: int = 7,
                 drop_path_rate: float = 0.1, official_reinit: bool = False,
                 init_cfg: Optional[dict] = None, **block_kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.window_size = window_size
        self.official_reinit = official_reinit
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList()
        for i, depth in enumerate(depths):
            dim = embed_dims * 2**i
            self.layers.append(
                SwinResMLPStage(
                    dim, depth, num_heads[i], window_size,
                    drop_path=rates[sum(depths[:i]):sum(depths[:i + 1])],
                    downsample=PatchMerging(dim) if i < 2 else None, mlp='mlp', **block_kwargs))
        self.apply(init_transformer_weights)

    def adapt_pretrained_state(self, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Swin-T checkpoint tensors under our names, bias tables at :attr:`window_size`."""
        try:
            return convert_swin_state_dict(state, self.window_size, fc3_init=None)[0]
        except ConversionError as e:
            raise PretrainedLoadError(f'[{self.branch_name}] {self.init_cfg["checkpoint"]!r}: '
                                      f'{e}') from e

    def init_weights(self) -> None:
        super().init_weights()
        if self.official_reinit:
            self.apply(init_transformer_weights)


@MODELS.register_module()
class HiFormerEncoder(BaseModule):
    """HiFormer's encoder: ResNet (``layer1``-``layer3``), Swin-T stages 0-2 and the DLF.

    With ``c_s`` the 1x1 projection (``proj``) of the ResNet map at stride s to Swin's width:

    * level 1: ``x1 = c_4 + swin0(c_4)`` (the official extra residual around the stage);
    * level 2: ``x2 = c_8 + swin1(merge0(x1))``;
    * level 3: ``x3 = c_16 + swin2(merge1(x2))``;
    * outputs: :class:`DoubleLevelFusion` of ``(x1, x3)``.

    Input size: any H x W. The image is zero-padded at the bottom/right to a multiple of 16
    (the ResNet's stride-16 map must be exact and both patch mergings need even maps); windows
    that do not tile a map are padded and masked inside each block, and the DLF position
    embeddings are resized to the maps. Outputs are on the padded grid;
    :class:`~csunet.models.decode_heads.HiFormerHead` crops its logits back.

    Args:
        arch: A variant of :data:`HIFORMER_ARCHS` (``'s'``, ``'b'``, ``'l'``); it gives the
            ResNet and the DLF settings that are left None below.
        in_channels: Image channels.
        img_size: Input side the DLF position embeddings are sized for (official: 224).
        embed_dims: Swin width C of stage 0 (stage i has ``C * 2**i``).
        depths: Swin blocks of stages 0-2: ``(2, 2, 6)`` (Swin-T, ``'original'``, the official
            setting) or ``(2, 2, 2)`` (``'intermediate'``), or a variant name of
            :data:`~csunet.models.backbones.SWIN_DEPTHS` (its first three stages).
        num_heads: Swin heads of stages 0-2.
        window_size: Swin window (official: 7 at 224²; 8 tiles the maps of 512² and 1024²).
        mlp_ratio, qkv_bias, drop_rate, attn_drop_rate: Swin blocks.
        drop_path_rate: Swin stochastic depth, rising linearly over its blocks (official 0.1).
        cnn: :class:`~csunet.models.backbones.TimmCNN` arguments (``model_name`` defaults to the
            arch's ResNet; ``out_strides`` is fixed to (4, 8, 16)), with its own ``init_cfg``
            for ImageNet / MicroNet weights.
        dlf_depths, dlf_num_heads, dlf_mlp_ratios: See :class:`DoubleLevelFusion`.
        dlf_qkv_bias: Bias of the DLF's query/key/value projections.
        dlf_drop_path_rate: DLF stochastic depth (official 0).
        official_dlf_output: Reproduce the official DLF, whose output ignores the fusion (see
            the module docstring). Its parameters then get no gradient: a distributed run needs
            ``find_unused_parameters=True``.
        official_swin_reinit: Reproduce the official re-initialisation of the loaded Swin-T
            weights (see :class:`HiFormerSwin`).
        swin_init_cfg: ``init_cfg`` of the Swin-T part (see :class:`HiFormerSwin`).
        with_cp: Activation checkpointing of every Swin block (less memory, same results).
        init_cfg: Not used for loading: the Swin part and the ResNet load their own checkpoints.

    Shape:
        - Input: ``(B, in_channels, H, W)``.
        - Output: ``((B, C, Hp/4, Wp/4), (B, 4C, Hp/16, Wp/16))``, ``Hp = ceil(H / 16) * 16``;
          channels-last in memory (``permute`` views).
    """

    def __init__(self,
                 arch: str = 'b',
                 in_channels: int = 3,
                 img_size: int = 224,
                 embed_dims: int = 96,
                 depths: Union[str, Sequence[int]] = (2, 2, 6),
                 num_heads: Sequence[int] = (3, 6, 12),
                 window_size: int = 7,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 cnn: Optional[dict] = None,
                 dlf_depths: Optional[Sequence[Sequence[int]]] = None,
                 dlf_num_heads: Optional[Sequence[int]] = None,
                 dlf_mlp_ratios: Optional[Sequence[float]] = None,
                 dlf_qkv_bias: bool = True,
                 dlf_drop_path_rate: float = 0.,
                 official_dlf_output: bool = False,
                 official_swin_reinit: bool = False,
                 swin_init_cfg: Optional[dict] = None,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in HIFORMER_ARCHS:
            raise KeyError(f'HiFormerEncoder.arch={arch!r}: use one of {sorted(HIFORMER_ARCHS)}')
        spec = HIFORMER_ARCHS[arch]
        depths = resolve_depths(depths)[:3] if isinstance(depths, str) else tuple(depths)
        if len(depths) != 3 or len(num_heads) != 3:
            raise ValueError(f'HiFormerEncoder uses Swin stages 0-2: need 3 depths and 3 '
                             f'num_heads, got depths={depths}, num_heads={tuple(num_heads)}')
        cnn = dict(cnn or {})
        if 'out_strides' in cnn:
            raise KeyError('HiFormerEncoder.cnn.out_strides is fixed to (4, 8, 16); remove it')
        cnn.setdefault('model_name', spec['cnn'])
        self.arch = arch
        self.depths = depths
        self.window_size = window_size
        self.embed_dims = embed_dims
        self.size_divisor = 16
        self.num_features = [embed_dims * 2**i for i in range(3)]

        self.cnn = TimmCNN(in_channels=in_channels, out_strides=(4, 8, 16), **cnn)
        self.proj = nn.ModuleList([
            nn.Conv2d(c_in, c_out, kernel_size=1)
            for c_in, c_out in zip(self.cnn.out_channels, self.num_features)
        ])
        self.swin = HiFormerSwin(
            embed_dims, depths, num_heads, window_size, drop_path_rate, official_swin_reinit,
            swin_init_cfg, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate,
            attn_drop=attn_drop_rate, with_cp=with_cp)
        dims = (self.num_features[0], self.num_features[2])
        self.dlf = DoubleLevelFusion(
            dims, (img_size // 4, img_size // 16),
            spec['dlf_depths'] if dlf_depths is None else dlf_depths,
            spec['dlf_num_heads'] if dlf_num_heads is None else dlf_num_heads,
            spec['dlf_mlp_ratios'] if dlf_mlp_ratios is None else dlf_mlp_ratios,
            dlf_qkv_bias, drop_rate, attn_drop_rate, dlf_drop_path_rate, official_dlf_output)
        # The official All2Cross initialises every Linear and LayerNorm of the encoder this way
        # (the ResNet has neither; the 1x1 projections keep PyTorch's init).
        self.dlf.apply(init_transformer_weights)

    @property
    def out_channels(self) -> List[int]:
        """Channels of the stride-4 and stride-16 outputs (the decode head's ``in_channels``)."""
        return [self.num_features[0], self.num_features[2]]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.size_divisor, -w % self.size_divisor
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        # B, H/s, W/s, C_s (the ResNet maps are channels-last: the permutes are views).
        c4, c8, c16 = [p(c).permute(0, 2, 3, 1) for p, c in zip(self.proj, self.cnn(x))]
        layers = self.swin.layers
        x1 = c4 + layers[0].forward_blocks(c4)
        x2 = c8 + layers[1].forward_blocks(layers[0].downsample(x1))
        x3 = c16 + layers[2].forward_blocks(layers[1].downsample(x2))
        return self.dlf((x1, x3))
