"""CS-UNet's two-branch encoder: Swin-T (ResMLP) for context, a timm CNN for local detail."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class CSUNetEncoder(BaseModule):
    """Encoder of CS-UNet (Alrfou, Zhao, Kordijazi 2023).

    Runs the same image through a Swin-T branch (:class:`SwinResMLP`) and a CNN branch
    (:class:`TimmCNN`) and returns both pyramids; :class:`SwinExpandDecoder` fuses them at every
    level, the CNN maps being flattened to tokens ``(B, HW, C)`` there.

    Input size: any H x W. The image is zero-padded at the bottom/right to a multiple of 32
    (``patch 4 x 2**3`` merges) so that every stride divides exactly and the two branches' maps
    align; windows that do not tile a stage are padded and masked inside each block. All outputs
    are on the padded grid; the decode head crops its logits back to the image
    (:meth:`PaddedLogitsHead.crop_to`).

    Args:
        swin: Config of the Swin branch (``type`` defaults to ``'SwinResMLP'``), with its own
            ``init_cfg`` (e.g. ImageNet or MicroLite weights).
        cnn: Config of the CNN branch (``type`` defaults to ``'TimmCNN'``), with its own
            ``init_cfg`` (e.g. ImageNet or MicroNet weights); None for a pure Swin-Unet.
        init_cfg: Not used for loading: each branch loads its own checkpoint.

    Shape:
        - Input: ``(B, 3, H, W)``.
        - Output: tuple of 8 maps (4 without CNN), channels in :attr:`out_channels`, with
          ``Hp = ceil(H / 32) * 32``: Swin skips ``(B, 96, Hp/4, Wp/4)``,
          ``(B, 192, Hp/8, Wp/8)``, ``(B, 384, Hp/16, Wp/16)``, the bottleneck
          ``(B, 768, Hp/32, Wp/32)``, then the CNN maps at strides 4, 8, 16, 32.
    """

    def __init__(self,
                 swin: Optional[dict] = None,
                 cnn: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.swin = MODELS.build({'type': 'SwinResMLP', **(swin or {})})
        if len(self.swin.out_indices) != len(self.swin.depths):
            raise ValueError('CSUNetEncoder needs every Swin stage: leave swin.out_indices unset')
        self.size_divisor = self.swin.size_divisor
        self.cnn = None
        if cnn is not None:
            self.cnn = MODELS.build({'type': 'TimmCNN', **cnn})
            strides = [self.swin.patch_size * 2**i for i in range(len(self.swin.depths))]
            if list(self.cnn.out_strides) != strides:
                raise ValueError(f'cnn.out_strides {self.cnn.out_strides} must match the Swin '
                                 f'strides {tuple(strides)}')

    @property
    def out_channels(self) -> List[int]:
        """Channels of each output, Swin first: the decode head's ``in_channels``."""
        cnn = self.cnn.out_channels if self.cnn is not None else []
        return list(self.swin.out_channels) + list(cnn)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.size_divisor, -w % self.size_divisor
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        outs = self.swin(x)
        if self.cnn is not None:
            outs = outs + self.cnn(x)
        return outs
