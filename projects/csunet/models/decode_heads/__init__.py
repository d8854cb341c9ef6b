from .hiformer_head import HiFormerHead
from .swin_expand_head import SwinExpandDecoder
from .transdeeplab_head import TransDeepLabHead

__all__ = ['SwinExpandDecoder']
__all__ += ['TransDeepLabHead']
__all__ += ['HiFormerHead']
