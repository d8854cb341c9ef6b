"""Engine components of csunet (hooks)."""
from .hooks import TwoPhaseEarlyStopHook

__all__ = ['TwoPhaseEarlyStopHook']
