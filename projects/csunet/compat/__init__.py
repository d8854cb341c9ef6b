"""Compatibility fixes for the pinned OpenMMLab stack; :func:`apply` runs them all.

Importing :mod:`csunet` calls :func:`apply`, so configs with ``custom_imports=['csunet']`` and this
project's ``tools/`` get them before mmseg's models are imported.
"""
from . import mmcv_ops, torch_load
from .mmcv_ops import MMCVOpsUnavailableError

__all__ = ['apply', 'mmcv_ops', 'torch_load', 'MMCVOpsUnavailableError']


def apply() -> None:
    """Install the mmcv-lite ``mmcv.ops`` stand-in and the checkpoint allow-list."""
    mmcv_ops.install()
    torch_load.allow_mmengine_checkpoint_types()
