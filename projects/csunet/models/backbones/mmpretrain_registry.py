"""Register CS-UNet's :class:`SwinResMLP` in mmpretrain's ``MODELS`` too (MicroLite pretraining),
and its SimMIM variant :class:`SimMIMSwinResMLP` (self-supervised pretraining).

The very same class object is registered under the same name in both libraries, so a classifier
pretrained with ``default_scope='mmpretrain'`` and CS-UNet's Swin branch share one implementation
and one parameter layout (``tools/model_converters/mmpretrain2csunet.py`` only renames
``backbone.*`` to ``backbone.swin.*``)::

    model = dict(type='ImageClassifier',
                 backbone=dict(type='SwinResMLP', out_indices=(3, )),  # tuple of NCHW maps
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='LinearClsHead', num_classes=74, in_channels=768, ...))

mmpretrain is a required dependency. Importing :mod:`mmpretrain.registry` imports the whole of
mmpretrain (its ``__init__`` imports ``mmpretrain.apis``), which runs on mmcv-lite once
:mod:`csunet.compat` is applied (``import csunet`` does that first).
"""
from mmpretrain.registry import MODELS as PRETRAIN_MODELS

from .simmim_swin_resmlp import SimMIMSwinResMLP
from .swin_resmlp import SwinResMLP

__all__ = ['register_in_mmpretrain']


def register_in_mmpretrain():
    """Register :class:`SwinResMLP` (classification) and :class:`SimMIMSwinResMLP` (SimMIM) in
    ``mmpretrain.registry.MODELS``; idempotent. Returns that registry."""
    for cls in (SwinResMLP, SimMIMSwinResMLP):
        registered = PRETRAIN_MODELS.module_dict.get(cls.__name__)
        if registered is None:
            PRETRAIN_MODELS.register_module(module=cls)
        elif registered is not cls:
            raise KeyError(f'mmpretrain MODELS already holds another {cls.__name__} '
                           f'({registered.__module__}); refusing to shadow it')
    return PRETRAIN_MODELS


register_in_mmpretrain()
