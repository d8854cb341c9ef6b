"""Data transforms of csunet, registered in mmseg's ``TRANSFORMS``."""
from .albu import AlbuSeg
from .check_labels import CheckSegLabels

__all__ = ['CheckSegLabels', 'AlbuSeg']
