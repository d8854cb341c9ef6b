"""Building blocks shared by the CS-UNet encoder and decoder."""
from .patch_ops import PatchExpand, PatchMerging
from .res_mlp import ResMLP
from .swin_block import SwinResMLPBlock, SwinResMLPStage, shifted_window_mask
from .window_attention import WindowAttention

__all__ = [
    'PatchExpand', 'PatchMerging', 'ResMLP', 'SwinResMLPBlock', 'SwinResMLPStage',
    'WindowAttention', 'shifted_window_mask'
]
