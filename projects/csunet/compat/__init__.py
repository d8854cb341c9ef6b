"""Compatibility fixes for the pinned OpenMMLab stack; :func:`apply` runs them all.

Importing :mod:`csunet` calls :func:`apply`, so configs with ``custom_imports=['csunet']`` and this
project's ``tools/`` get them before mmseg's models are imported.
"""
from . import cpu_dist, mmcv_ops, torch_load
from .mmcv_ops import MMCVOpsUnavailableError

__all__ = ['apply', 'cpu_dist', 'mmcv_ops', 'torch_load', 'MMCVOpsUnavailableError']


def apply() -> None:
    """Install the mmcv-lite ``mmcv.ops`` stand-in, the checkpoint allow-list and the CPU
    (``gloo``) path of distributed training."""
    mmcv_ops.install()
    torch_load.allow_mmengine_checkpoint_types()
    cpu_dist.install()
