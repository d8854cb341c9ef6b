"""HiFormer's decoder (Heidari et al. 2023) as an mmseg decode head."""
from typing import List, Sequence, Tuple

from mmseg.registry import MODELS
from torch import Tensor, nn

from .padded_logits_head import PaddedLogitsHead


def conv_tower(in_channels: int, channels: Sequence[int], num_groups: int,
               upsample: bool) -> nn.Sequential:
    """The official ``ConvUpsample``: per width, a bias-free 3x3 convolution, GroupNorm, ReLU
    and (``upsample``) a 2x bilinear upsampling. Layer indices as in its ``convs_level``."""
    layers: List[nn.Module] = []
    for out in channels:
        layers += [nn.Conv2d(in_channels, out, 3, padding=1, bias=False),
                   nn.GroupNorm(num_groups, out), nn.ReLU()]
        if upsample:
            layers.append(nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False))
        in_channels = out
    return nn.Sequential(*layers)


@MODELS.register_module()
class HiFormerHead(PaddedLogitsHead):
    """HiFormer's decoder: two convolution towers to a common stride-4 map, summed, then a 1x1
    convolution, ReLU, 4x bilinear upsampling and a 3x3 classifier.

    With inputs from :class:`~csunet.models.backbones.HiFormerEncoder` (stride-4 map
    ``(B, C_4, H/4, W/4)``, stride-16 map ``(B, C_16, H/16, W/16)``):

    1. ``up_low`` (the official ``ConvUp_l``): 3x3 conv to ``mid_channels``, GroupNorm, ReLU;
    2. ``up_high`` (``ConvUp_s``): twice 3x3 conv, GroupNorm, ReLU and 2x upsampling;
    3. their sum -> ``conv_pred`` (1x1 conv to ``channels``, ReLU, 4x upsampling; the official
       GroupNorm there is commented out) -> ``conv_seg``, a 3x3 convolution with bias (the
       official ``segmentation_head``; mmseg's 1x1 ``conv_seg`` is replaced, so mmseg adds no
       parameter; it keeps mmseg's Normal(0.01) init).

    Logits come out at full resolution on the encoder's padded grid; :meth:`loss_by_feat` and
    :meth:`predict_by_feat` crop them back to the label / image size.

    Args:
        in_channels: Channels of the stride-4 and stride-16 maps (96, 384).
        channels: Width before the classifier (16).
        mid_channels: Width of the convolution towers (128).
        num_groups: GroupNorm groups (32).
        **kwargs: :class:`~mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments
            (``num_classes``, ``loss_decode``, ...). ``dropout_ratio`` defaults to 0 (the
            official decoder has no dropout); ``in_index`` and ``input_transform`` are set here.

    Shape:
        - Input: the encoder's pair (see above).
        - Output: ``(B, num_classes, Hp, Wp)``, ``Hp = 4 * (height of the stride-4 map)``.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (96, 384),
                 channels: int = 16,
                 mid_channels: int = 128,
                 num_groups: int = 32,
                 **kwargs) -> None:
        for key in ('in_index', 'input_transform'):
            if key in kwargs:
                raise KeyError(f'HiFormerHead sets {key} itself; remove it from the config')
        in_channels = list(in_channels)
        if len(in_channels) != 2:
            raise ValueError(f'HiFormerHead.in_channels: the stride-4 and stride-16 widths '
                             f'expected, got {in_channels}')
        kwargs.setdefault('dropout_ratio', 0.)
        super().__init__(in_channels=in_channels, channels=channels, in_index=[0, 1],
                         input_transform='multiple_select', **kwargs)
        self.up_low = conv_tower(in_channels[0], [mid_channels], num_groups, upsample=False)
        self.up_high = conv_tower(in_channels[1], [mid_channels] * 2, num_groups, upsample=True)
        self.conv_pred = nn.Sequential(
            nn.Conv2d(mid_channels, channels, kernel_size=1), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=4, mode='bilinear', align_corners=False))
        self.conv_seg = nn.Conv2d(channels, self.out_channels, kernel_size=3, padding=1)

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        low, high = self._transform_inputs(inputs)
        low, high = self.up_low(low), self.up_high(high)
        if low.shape[-2:] != high.shape[-2:]:
            raise ValueError(f'HiFormerHead: stride-16 map upsampled to {tuple(high.shape[-2:])}'
                             f' but the stride-4 map is {tuple(low.shape[-2:])}; the inputs '
                             f'must be at strides 4 and 16 of the same (padded) image')
        return self.cls_seg(self.conv_pred(low + high))
