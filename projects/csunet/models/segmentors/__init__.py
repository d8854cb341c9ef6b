from .csunet import CSUNet, derive_decoder_cfg

__all__ = ['CSUNet', 'derive_decoder_cfg']
