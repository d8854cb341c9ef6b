"""csunet: CS-UNet (CNN + Swin-T U-Net) for micrograph segmentation on OpenMMLab.

Importing this package applies :mod:`csunet.compat` (mmseg on mmcv-lite, mmengine checkpoints
under ``weights_only``) and registers the models, datasets, metrics and hooks.
"""
from . import compat

compat.apply()

from .version import __version__  # noqa: E402
from . import models  # noqa: E402,F401

__all__ = ['__version__', 'compat', 'models']
