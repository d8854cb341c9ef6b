"""Training hooks of csunet: mmseg's ``HOOKS`` (segmentation) and mmpretrain's (pretraining),
registered on import."""
from .selfsup_heldout_hook import SelfSupHeldOutHook
from .two_phase_early_stop_hook import TwoPhaseEarlyStopHook

__all__ = ['SelfSupHeldOutHook', 'TwoPhaseEarlyStopHook']
