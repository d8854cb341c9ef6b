"""NASA benchmark datasets (Super 1-4, EBC 1-3), their encodings and transforms.

Registers :class:`SuperDataset`, :class:`EBCDataset` (mmseg ``DATASETS``),
:class:`CheckSegLabels` (mmseg ``TRANSFORMS``) and :class:`MicroLiteDataset` (mmpretrain
``DATASETS``) on import.
"""
from . import nasa_encoding
from .ebc import EBCDataset
from .microlite import MicroLiteDataset  # registered in mmpretrain's DATASETS
from .nasa_base import NASASegDataset
from .super import SuperDataset
from .transforms import CheckSegLabels

__all__ = [
    'nasa_encoding', 'NASASegDataset', 'SuperDataset', 'EBCDataset', 'CheckSegLabels',
    'MicroLiteDataset'
]
