from .swin_expand_head import SwinExpandDecoder

__all__ = ['SwinExpandDecoder']
