from .csunet_encoder import CSUNetEncoder
from .hiformer import HIFORMER_ARCHS, HiFormerEncoder
from .mmpretrain_registry import register_in_mmpretrain  # SwinResMLP in mmpretrain too
from .simmim_swin_resmlp import SimMIMSwinResMLP
from .swin_resmlp import SWIN_ARCHS, SWIN_DEPTHS, SwinResMLP
from .timm_cnn import TimmCNN
from .transdeeplab import TRANSDEEPLAB_SPP_224, TransDeepLabEncoder

__all__ = [
    'CSUNetEncoder', 'SwinResMLP', 'SWIN_ARCHS', 'SWIN_DEPTHS', 'TimmCNN', 'register_in_mmpretrain'
]
__all__ += ['TRANSDEEPLAB_SPP_224', 'TransDeepLabEncoder']
__all__ += ['HIFORMER_ARCHS', 'HiFormerEncoder', 'SimMIMSwinResMLP']
