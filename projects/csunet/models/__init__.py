"""CS-UNet models, registered in mmseg's ``MODELS`` registry on import."""
from .backbones import CSUNetEncoder, SwinResMLP, TimmCNN
from .decode_heads import SwinExpandDecoder
from .losses import BCEDiceLoss

__all__ = ['BCEDiceLoss', 'CSUNetEncoder', 'SwinExpandDecoder', 'SwinResMLP', 'TimmCNN']
