"""Engine components of csunet (hooks, optimizer wrappers)."""
from .hooks import TwoPhaseEarlyStopHook
from .optimizers import AutocastOptimWrapper, enable_amp

__all__ = ['TwoPhaseEarlyStopHook', 'AutocastOptimWrapper', 'enable_amp']
