"""CS-UNet's Swin branch for SimMIM masked image modelling (mmpretrain's ``SimMIM``).

mmpretrain 1.2.0 runs SimMIM on Swin only through its own ``SimMIMSwinTransformer``;
:class:`SimMIMSwinResMLP` is the same idea for :class:`SwinResMLP` (ResMLP blocks, CS-UNet's
parameter layout), registered in mmpretrain's ``MODELS`` by ``import csunet``::

    model = dict(type='SimMIM',
                 backbone=dict(type='SimMIMSwinResMLP', arch='original', out_indices=(3, )),
                 neck=dict(type='SimMIMLinearDecoder', in_channels=768, encoder_stride=32),
                 head=dict(type='SimMIMHead', patch_size=4,
                           loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))

Its parameters are those of :class:`SwinResMLP` plus ``mask_token``, so
``tools/model_converters/mmpretrain2csunet.py`` turns a SimMIM checkpoint (``backbone.*``) into
CS-UNet's Swin branch as it does a MicroLite classifier (the mask token, the linear decoder
``neck.*`` and ``head.*`` are reported as not used).
"""
from typing import Optional, Tuple

import torch
from timm.layers import trunc_normal_
from torch import nn

from .swin_resmlp import SwinResMLP


class SimMIMSwinResMLP(SwinResMLP):
    """:class:`SwinResMLP` whose patch tokens can be replaced by a learnt mask token.

    Takes the arguments of :class:`SwinResMLP` (use ``out_indices=(3, )``: SimMIM's linear decoder
    reads the normalised stride-32 map).

    Shape:
        - ``x``: ``(B, C_in, H, W)``, H and W multiples of 32.
        - ``mask``: ``(B, H / 4, W / 4)`` of 0/1 (mmpretrain's ``SimMIMMaskGenerator`` with
          ``model_patch_size=4``), 1 where the patch is hidden; None: plain :class:`SwinResMLP`.
        - Output: as :class:`SwinResMLP`, e.g. ``((B, 768, H / 32, W / 32), )``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 1, self.embed_dims))
        trunc_normal_(self.mask_token, std=.02)

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        if mask is None:
            return super().forward(x)
        return super().forward(x, token_hook=lambda tokens: self._mask_tokens(tokens, mask))

    def _mask_tokens(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``tokens`` ``(B, h, w, C)`` after the patch embedding, hidden ones replaced."""
        if mask.shape != tokens.shape[:3]:
            raise ValueError(f'SimMIM mask {tuple(mask.shape)} does not match the patch grid '
                             f'{tuple(tokens.shape[:3])}: SimMIMMaskGenerator needs '
                             f'input_size = the crop side and model_patch_size={self.patch_size}')
        w = mask.unsqueeze(-1).type_as(tokens)
        return tokens * (1. - w) + self.mask_token.to(tokens.dtype) * w
