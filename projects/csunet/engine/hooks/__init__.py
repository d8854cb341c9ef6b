"""Training hooks of csunet, registered in mmseg's ``HOOKS`` registry on import."""
from .two_phase_early_stop_hook import TwoPhaseEarlyStopHook

__all__ = ['TwoPhaseEarlyStopHook']
