"""TransDeepLab's Swin decoder (Azad et al. 2022) as an mmseg decode head."""
from typing import Dict, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from torch import Tensor, nn

from ...fileio import ConversionError
from ..backbones.pretrained_mixin import PretrainedBranchMixin
from ..backbones.swin_resmlp import init_transformer_weights
from ..layers import PatchExpand, SwinResMLPStage
from ..utils import PretrainedLoadError
from ..utils.swin_convert import convert_swin_state_dict
from .padded_logits_head import PaddedLogitsHead

#: Official decoder initialisation from Swin-T (``SwinDecoder.load_from``: ``layers.i`` ->
#: ``layers_up.(1-i)`` and ``last_layers_up.(1-i)``, kept where the shapes fit): (decoder stage,
#: Swin-T stage). Only blocks 0 and 1 exist in both (Swin-T stages 0 and 1 have two blocks).
SWIN_T_DECODER_MAPPING = (('layers_up.1', 'layers.0'), ('last_layers_up.0', 'layers.1'))


@MODELS.register_module()
class TransDeepLabHead(PretrainedBranchMixin, PaddedLogitsHead):
    """TransDeepLab's decoder: Swin stages with channel-keeping patch expanding.

    With C the low-level width (96) and inputs from :class:`~csunet.models.backbones.
    TransDeepLabEncoder` (low level ``(B, C, H/4, W/4)``, pyramid ``(B, C, H/16, W/16)``):

    1. pyramid -> 2 stages of ``depth`` Swin blocks (width C), each followed by a 2x patch
       expanding that keeps C (``layers_up``; strides 16 -> 8 -> 4);
    2. concatenation with the low-level map (2C) -> ``last_layer_depth`` Swin blocks -> 2x patch
       expanding (``last_layers_up``; stride 2);
    3. LayerNorm (``norm_up``), 2x patch expanding (``final_up``; stride 1) and a bias-free 1x1
       convolution to ``num_classes`` (mmseg's ``conv_seg``, the official ``output``).

    Every block has ``num_heads`` heads and ``window_size`` (the encoder's, as in the official
    code); the ``layers_up`` blocks have stochastic depth ``drop_path_rate``, the last ones none.
    Logits come out on the encoder's padded grid; :meth:`loss_by_feat` and
    :meth:`predict_by_feat` crop them back to the label / image size.

    ``init_cfg=dict(type='Pretrained', checkpoint=<Swin-T>, ...)`` reproduces the official
    decoder initialisation (:data:`SWIN_T_DECODER_MAPPING`): blocks 0-1 of ``layers_up.1`` from
    Swin-T stage 0 and of ``last_layers_up.0`` from stage 1, bias tables interpolated to
    ``window_size``; stage 1's 6-head bias tables do not fit the 3-head blocks and are reported as
    shape-mismatched, as the official loader drops them. The ratio counts these four blocks only;
    ``conv_seg`` then gets mmseg's normal init.

    Args:
        in_channels: Channels of the low-level map and of the pyramid (both C).
        channels: Width after the concatenation, 2C (the input of ``conv_seg``).
        depth: Swin blocks of each ``layers_up`` stage.
        last_layer_depth: Swin blocks after the concatenation.
        num_heads: Attention heads of every block.
        window_size: Window of every block (set it equal to the encoder's).
        mlp_ratio, qkv_bias, drop_rate, attn_drop_rate: As in the encoder.
        drop_path_rate: Stochastic depth of the ``layers_up`` blocks.
        with_cp: Activation checkpointing of every Swin block (less memory, same results).
        **kwargs: :class:`~mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments
            (``num_classes``, ``loss_decode``, ...). ``dropout_ratio`` defaults to 0 (the official
            decoder has no dropout); ``in_index`` and ``input_transform`` are set here.

    Shape:
        - Input: the encoder's pair (see above).
        - Output: ``(B, num_classes, Hp, Wp)``, ``Hp = 4 * (height of the low-level map)``.
    """
    branch_name = 'transdeeplab.decoder'

    def __init__(self,
                 in_channels: Sequence[int] = (96, 96),
                 channels: int = 192,
                 depth: int = 2,
                 last_layer_depth: int = 6,
                 num_heads: int = 3,
                 window_size: int = 7,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 with_cp: bool = False,
                 **kwargs) -> None:
        in_channels = list(in_channels)
        for key in ('in_index', 'input_transform'):
            if key in kwargs:
                raise KeyError(f'TransDeepLabHead sets {key} itself; remove it from the config')
        if len(in_channels) != 2 or in_channels[0] != in_channels[1]:
            raise ValueError(f'TransDeepLabHead.in_channels: the low-level and pyramid widths '
                             f'(equal) expected, got {in_channels}')
        if channels != 2 * in_channels[0]:
            raise ValueError(f'TransDeepLabHead.channels={channels} must be 2 * in_channels[0] '
                             f'= {2 * in_channels[0]} (low level and pyramid concatenated)')
        kwargs.setdefault('dropout_ratio', 0.)
        super().__init__(in_channels=in_channels, channels=channels, in_index=[0, 1],
                         input_transform='multiple_select', **kwargs)
        dim = in_channels[0]
        self.window_size = window_size
        block_kwargs = dict(mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate,
                            attn_drop=attn_drop_rate, with_cp=with_cp, mlp='mlp')
        self.layers_up = nn.ModuleList([
            SwinResMLPStage(dim, depth, num_heads, window_size, drop_path=drop_path_rate,
                            upsample=PatchExpand(dim, dim), **block_kwargs) for _ in range(2)
        ])
        self.last_layers_up = nn.ModuleList([
            SwinResMLPStage(channels, last_layer_depth, num_heads, window_size, drop_path=0.,
                            upsample=PatchExpand(channels, channels), **block_kwargs)
        ])
        self.norm_up = nn.LayerNorm(channels)
        self.final_up = PatchExpand(channels, channels)
        # The official classifier has no bias.
        self.conv_seg = nn.Conv2d(channels, self.out_channels, kernel_size=1, bias=False)
        for module in (self.layers_up, self.last_layers_up, self.norm_up, self.final_up):
            module.apply(init_transformer_weights)

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        low, x = [f.permute(0, 2, 3, 1) for f in self._transform_inputs(inputs)]  # B, H, W, C
        for layer in self.layers_up:
            _, x = layer(x)
        if x.shape[1:3] != low.shape[1:3]:
            raise ValueError(f'TransDeepLabHead: pyramid upsampled to {tuple(x.shape[1:3])} but '
                             f'the low-level map is {tuple(low.shape[1:3])}; the pyramid must be '
                             f'at 1/4 of the low-level resolution')
        _, x = self.last_layers_up[0](torch.cat([low, x], dim=-1))
        x = self.final_up(self.norm_up(x))
        return self.cls_seg(x.permute(0, 3, 1, 2))

    # -- pretrained decoder init (official SwinDecoder.load_from) ------------------------------

    def pretrained_target(self) -> nn.Module:
        """Blocks 0-1 of the stages that :data:`SWIN_T_DECODER_MAPPING` fills, under their names."""
        def blocks(stage: nn.Module) -> nn.Module:
            return nn.ModuleDict(dict(blocks=nn.ModuleList(list(stage.blocks)[:2])))

        view = nn.ModuleDict(dict(
            layers_up=nn.ModuleDict({'1': blocks(self.layers_up[1])}),
            last_layers_up=nn.ModuleDict({'0': blocks(self.last_layers_up[0])})))
        # Outside the module tree (see TransDeepLabEncoder.pretrained_target).
        self.__dict__['_pretrained_view'] = view
        return view

    def adapt_pretrained_state(self, state: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Swin-T stages 0 and 1 renamed to the decoder stages they initialise."""
        try:
            swin = convert_swin_state_dict(state, self.window_size, fc3_init=None)[0]
        except ConversionError as e:
            raise PretrainedLoadError(f'[{self.branch_name}] {self.init_cfg["checkpoint"]!r}: '
                                      f'{e}') from e
        out = {}
        for dec, enc in SWIN_T_DECODER_MAPPING:
            for key, value in swin.items():
                if key.startswith(enc + '.blocks.'):
                    out[dec + key[len(enc):]] = value
        return out

    def init_weights(self) -> None:
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            # mmseg's default init of the classifier, which a Pretrained init_cfg replaces.
            nn.init.normal_(self.conv_seg.weight, std=0.01)
        super().init_weights()
        view = self.__dict__.pop('_pretrained_view', None)
        if view is not None and hasattr(view, 'pretrained_report'):
            self.pretrained_report = view.pretrained_report
