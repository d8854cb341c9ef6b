"""Register CS-UNet's :class:`SwinResMLP` in mmpretrain's ``MODELS`` too (MicroLite pretraining).

The very same class object is registered under the same name in both libraries, so a classifier
pretrained with ``default_scope='mmpretrain'`` and CS-UNet's Swin branch share one implementation
and one parameter layout (``tools/model_converters/mmpretrain2csunet.py`` only renames
``backbone.*`` to ``backbone.swin.*``)::

    model = dict(type='ImageClassifier',
                 backbone=dict(type='SwinResMLP', out_indices=(3, )),  # tuple of NCHW maps
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='LinearClsHead', num_classes=74, in_channels=768, ...))

mmpretrain is optional: without it (or when its import fails) nothing is registered and no error
is raised; :data:`MMPRETRAIN_AVAILABLE` tells which. Importing :mod:`mmpretrain.registry` imports
the whole of mmpretrain (its ``__init__`` imports ``mmpretrain.apis``), which runs on mmcv-lite
once :mod:`csunet.compat` is applied (``import csunet`` does that first).
"""
from typing import Optional

from .swin_resmlp import SwinResMLP

__all__ = ['MMPRETRAIN_AVAILABLE', 'register_in_mmpretrain']

MMPRETRAIN_AVAILABLE = False


def register_in_mmpretrain() -> Optional[object]:
    """Register :class:`SwinResMLP` in ``mmpretrain.registry.MODELS``; idempotent.

    Returns:
        mmpretrain's ``MODELS`` registry, or None when mmpretrain cannot be imported.
    """
    global MMPRETRAIN_AVAILABLE
    try:
        from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    except ImportError:  # mmpretrain not installed (or broken): segmentation still works
        return None
    registered = PRETRAIN_MODELS.module_dict.get(SwinResMLP.__name__)
    if registered is None:
        PRETRAIN_MODELS.register_module(module=SwinResMLP)
    elif registered is not SwinResMLP:
        raise KeyError(f'mmpretrain MODELS already holds another {SwinResMLP.__name__} '
                       f'({registered.__module__}); refusing to shadow it')
    MMPRETRAIN_AVAILABLE = True
    return PRETRAIN_MODELS


register_in_mmpretrain()
