"""csunet: CS-UNet (CNN + Swin-T U-Net) for micrograph segmentation on OpenMMLab.

Importing this package applies :mod:`csunet.compat` (mmseg on mmcv-lite, mmengine checkpoints
under ``weights_only``) and registers the models, datasets, transforms, metrics and hooks in
mmseg's registries.
"""
from . import compat

compat.apply()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat', 'datasets', 'engine', 'evaluation', 'models']
