"""Data transforms of csunet, registered in mmseg's ``TRANSFORMS``."""
from .check_labels import CheckSegLabels
from .albu import AlbuSeg

__all__ = ['CheckSegLabels', 'AlbuSeg']
