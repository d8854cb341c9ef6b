"""Data transforms of csunet, registered in mmseg's ``TRANSFORMS``."""
from .check_labels import CheckSegLabels

__all__ = ['CheckSegLabels']
