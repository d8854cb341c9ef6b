"""Mixed-precision training (``tools/train.py --amp``): bf16 autocast where supported, else fp16.

mmengine 0.10.7 has one AMP wrapper, ``AmpOptimWrapper``: it asserts that a GPU (CUDA, NPU, MLU,
MUSA) is present, so it cannot train on the CPU, and it always scales the loss with a
``GradScaler``. Loss scaling exists for float16, whose 5-bit exponent underflows small gradients;
bfloat16 has float32's exponent range and needs none. Hence:

* :class:`AutocastOptimWrapper`: ``OptimWrapper`` plus ``torch.autocast(dtype=bfloat16)`` on the
  model's device during the forward pass and the loss, no loss scaling; runs on CPU and CUDA.
* :func:`enable_amp` (what ``--amp`` does to a config): bf16 with :class:`AutocastOptimWrapper`
  on the CPU (``torch.autocast('cpu')`` supports only bf16) and on CUDA devices with bf16
  (``torch.cuda.is_bf16_supported()``: Ampere and newer); otherwise mmengine's ``AmpOptimWrapper``
  with ``dtype='float16'`` and dynamic loss scaling.

Parameters, gradients and optimizer state stay float32 in both cases (autocast casts per op).
"""
import logging
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

__all__ = ['AutocastOptimWrapper', 'amp_dtype', 'enable_amp']

AMP_WRAPPERS = ('AmpOptimWrapper', 'AutocastOptimWrapper')


# mmengine's root registry: found from mmseg's and mmpretrain's scopes (segmentation and
# pretraining configs) alike.
@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` running the forward pass and the loss under bfloat16 autocast.

    No loss scaling: bfloat16 has float32's exponent range, so gradients do not underflow the way
    they do in float16 (use mmengine's ``AmpOptimWrapper`` for float16).

    Args:
        dtype (str | torch.dtype): The autocast dtype; only ``'bfloat16'``. Defaults to
            ``'bfloat16'``.
        device_type (str, optional): ``'cpu'`` or ``'cuda'``. Defaults to the device of the
            model's first parameter when the step runs.
        **kwargs: Passed to ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError(f'{type(self).__name__} autocasts to bfloat16 only, got {dtype}; '
                             'float16 needs loss scaling: use AmpOptimWrapper(dtype="float16")')
        super().__init__(**kwargs)
        self.cast_dtype = dtype
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper`` plus bf16 autocast."""
        device_type = self.device_type
        if device_type is None:
            param = next(model.parameters(), None)
            device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(
                device_type=device_type, dtype=self.cast_dtype):
            yield


def amp_dtype(device_type: str) -> torch.dtype:
    """The AMP dtype for a device type: bfloat16 on the CPU and on CUDA with bf16, else float16."""
    if device_type == 'cpu':
        return torch.bfloat16
    if device_type == 'cuda' and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def enable_amp(optim_wrapper: dict, device_type: Optional[str] = None) -> dict:
    """Turn an ``optim_wrapper`` config into its mixed-precision form (``--amp``), in place.

    Args:
        optim_wrapper (dict): ``cfg.optim_wrapper``; its type must be ``OptimWrapper`` (or unset),
            or already an AMP wrapper, which is kept as it is.
        device_type (str, optional): Where training runs. Defaults to mmengine's ``get_device()``.

    Returns:
        dict: ``optim_wrapper``, now ``AutocastOptimWrapper(dtype='bfloat16')`` or
        ``AmpOptimWrapper(dtype='float16', loss_scale='dynamic')``.
    """
    from mmengine.device import get_device
    from mmengine.logging import print_log
    wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type in AMP_WRAPPERS:
        print_log(f'--amp: the config already uses {wrapper_type}; kept as it is.',
                  logger='current', level=logging.WARNING)
        return optim_wrapper
    if wrapper_type != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got {wrapper_type}')
    device_type = device_type or get_device()
    dtype = amp_dtype(device_type)
    if dtype is torch.bfloat16:
        optim_wrapper.update(type='AutocastOptimWrapper', dtype='bfloat16')
        how = 'bfloat16 autocast, no loss scaling'
    else:
        optim_wrapper.update(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic')
        how = 'float16 autocast with dynamic loss scaling (no bfloat16 on this device)'
    print_log(f'--amp: {how} on {device_type}', logger='current')
    return optim_wrapper
