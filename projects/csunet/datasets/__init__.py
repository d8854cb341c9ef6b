"""NASA benchmark datasets (Super 1-4, EBC 1-3), their encodings and transforms.

Registers :class:`SuperDataset`, :class:`EBCDataset` (mmseg ``DATASETS``) and
:class:`CheckSegLabels` (mmseg ``TRANSFORMS``) on import.
"""
from . import nasa_encoding
from .ebc import EBCDataset
from .microlite import MICROLITE_AVAILABLE  # MicroLiteDataset in mmpretrain
from .nasa_base import NASASegDataset
from .super import SuperDataset
from .transforms import CheckSegLabels

__all__ = [
    'nasa_encoding', 'NASASegDataset', 'SuperDataset', 'EBCDataset', 'CheckSegLabels',
    'MICROLITE_AVAILABLE'
]
