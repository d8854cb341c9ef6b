"""CS-UNet as an mmseg segmentor whose decoder is derived from (and checked against) its encoder."""
from typing import Any, Dict, Sequence

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from ..backbones.swin_resmlp import resolve_depths, swin_unet_decoder_arch


def _canonical(key: str, value: Any) -> Any:
    """A decoder argument in the form the encoder's is compared with (tuples, variant names
    resolved to the mirrored depths)."""
    if key == 'decoder_depths' and isinstance(value, str):
        return tuple(resolve_depths(value)[-2::-1])
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value


def derive_decoder_cfg(decode_head: dict, encoder) -> dict:
    """The ``SwinExpandDecoder`` config with every value that must agree with ``encoder`` (a
    :class:`~csunet.models.CSUNetEncoder`) filled in where absent and checked where given.

    Derived: ``in_channels`` (the encoder's outputs, Swin then CNN), ``channels``,
    ``decoder_depths`` and ``num_heads`` (the Swin encoder's stages 2, 1, 0), ``bottleneck_depth``,
    ``window_size`` and ``drop_path_rate`` (the decoder reuses the encoder's stochastic-depth
    schedule mirrored). A given value that differs raises ``ValueError`` naming both.
    """
    want: Dict[str, Any] = dict(in_channels=tuple(encoder.out_channels),
                                **swin_unet_decoder_arch(encoder.swin))
    cfg = dict(decode_head)
    mismatches = []
    for key, value in want.items():
        if cfg.get(key) is None:
            cfg[key] = list(value) if isinstance(value, tuple) else value
            continue
        given = _canonical(key, cfg[key])
        if given != value:
            source = 'backbone.out_channels' if key == 'in_channels' else 'backbone.swin'
            mismatches.append(f'decode_head.{key}={cfg[key]!r} but the encoder gives {value!r} '
                              f'({source})')
    if mismatches:
        raise ValueError('CS-UNet decoder does not match its encoder:\n  ' +
                         '\n  '.join(mismatches) +
                         '\nRemove these keys from decode_head to derive them from the encoder.')
    return cfg


@MODELS.register_module()
class CSUNet(EncoderDecoder):
    """mmseg's :class:`~mmseg.models.segmentors.EncoderDecoder` for CS-UNet and Swin-Unet.

    Identical at run time; at build time the decode head's arguments that mirror the encoder
    (:func:`derive_decoder_cfg`) are derived from the built ``CSUNetEncoder``, so a config changes
    the Swin variant in one place (``backbone.swin.arch``) and a decoder that disagrees with its
    encoder fails here instead of training silently. Deliberately asymmetric models can still be
    assembled with ``type='EncoderDecoder'``, which checks nothing.
    """

    def _init_decode_head(self, decode_head: dict) -> None:
        if decode_head.get('type', 'SwinExpandDecoder') != 'SwinExpandDecoder':
            raise ValueError(f"CSUNet's decode_head must be a SwinExpandDecoder, got "
                             f"{decode_head.get('type')!r}")
        super()._init_decode_head(derive_decoder_cfg(decode_head, self.backbone))
