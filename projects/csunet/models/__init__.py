"""CS-UNet models, registered in mmseg's ``MODELS`` registry on import."""
from .backbones import CSUNetEncoder, SwinResMLP, TimmCNN
from .decode_heads import SwinExpandDecoder
from .losses import BCEDiceLoss
from .segmentors import CSUNet

__all__ = ['BCEDiceLoss', 'CSUNet', 'CSUNetEncoder', 'SwinExpandDecoder', 'SwinResMLP', 'TimmCNN']
