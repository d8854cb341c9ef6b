from .csunet_encoder import CSUNetEncoder
from .swin_resmlp import SWIN_DEPTHS, SwinResMLP
from .timm_cnn import TimmCNN

__all__ = ['CSUNetEncoder', 'SwinResMLP', 'SWIN_DEPTHS', 'TimmCNN']
