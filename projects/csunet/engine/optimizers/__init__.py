"""Optimizer wrappers of csunet: mixed precision for ``tools/train.py --amp``."""
from .amp import AutocastOptimWrapper, amp_dtype, enable_amp

__all__ = ['AutocastOptimWrapper', 'amp_dtype', 'enable_amp']
