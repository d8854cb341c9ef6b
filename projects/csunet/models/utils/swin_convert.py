"""Convert Swin Transformer checkpoints to CS-UNet's Swin branch and decoder.

Sources (:func:`convert_swin_state_dict`):

* Microsoft Swin (``swin_tiny_patch4_window7_224.pth``: ``{'model': ...}``, classifier ``head.*``)
  and anything in its layout: the CS-UNet authors' MicroLite checkpoints (window 7, with
  ``mlp.fc3`` where ResMLP was trained), Swin-Unet / CS-UNet training checkpoints (encoder under
  ``swin_unet.``, ``encoder.``, ``module.`` ...), our own :class:`SwinResMLP` checkpoints.
* timm >= 0.9 Swin (``head.fc.*``, ``layers.i.downsample`` at the *start* of stage i, i >= 1).
  Its patch merging concatenates the 2x2 neighbours in Microsoft's order
  (``[x(0,0), x(1,0), x(0,1), x(1,1)]``; timm's own loader only moves the key), so the weights are
  moved back to ``layers.{i-1}.downsample`` unchanged.
* Refused with a message: mmpretrain/mmseg Swin (``stages.*``, ``attn.w_msa``, ``ffn``), Swin V2.

The Swin part is found wherever it is nested: the prefix is whatever precedes
``patch_embed.proj.weight`` (pass ``prefix`` when a file holds several). Mapping onto
:class:`~csunet.models.backbones.SwinResMLP`:

* ``relative_position_index`` / ``attn_mask`` buffers (derived from the window) and the
  classifier ``head.*`` are dropped, as is ``absolute_pos_embed`` (CS-UNet has none);
* ``norm`` (after the last stage) -> ``norm{S-1}`` (``norm3``);
* ``relative_position_bias_table`` is resized from ``(2*w_src-1)^2`` to ``(2*w-1)^2`` rows by
  bicubic interpolation of each head's ``(2w_src-1) x (2w_src-1)`` grid (``align_corners=False``,
  as Microsoft's Swin and mmseg do when fine-tuning at another window; same size is the identity);
* ``mlp.fc1``/``mlp.fc2`` load as they are. ``mlp.fc3``, which plain Swin lacks, is initialised
  (``fc3_init``):

  - ``'identity'`` (default): ``W = I``, ``b = 0``. The block's MLP branch becomes
    ``GELU(fc2(GELU(fc1(x))) + x)`` instead of Swin's ``fc2(GELU(fc1(x)))``. No choice of fc3 can
    reproduce Swin exactly (the GELU sits before fc3), but identity keeps the pretrained fc1/fc2
    features flowing through unchanged for positive pre-activations, i.e. the pretrained path stays
    dominant, and every pretrained tensor receives gradient from the first step.
  - ``'zero'``: ``W = 0``, ``b = 0``: the MLP branch starts switched off (attention-only blocks,
    the residual stream is exactly the pretrained attention path); fc1/fc2 only receive gradient
    once fc3 has moved away from zero.
  - ``None``: not written; the model keeps its own random init and reports fc3 as missing.

* with ``stage_norms=True`` (for ``SwinResMLP(skip_source='stage_output')`` only), the per-stage
  output norms ``norm0``..``norm{S-2}`` that Microsoft lacks are written as unit LayerNorms, the
  values the model would initialise. The default model (``skip_source='stage_input'``, the
  official wiring) has no such norms, so by default none are written.

So a Microsoft Swin-T loads into ``SwinResMLP()`` with nothing missing and every tensor either
from the source or documented as initialised (``info['initialised']``), unlike the authors' loader,
whose ``k[17:]`` prefix slicing leaves almost every key unmatched.

mmpretrain -> CS-UNet (:func:`mmpretrain_to_csunet`): a classifier trained with our
:class:`SwinResMLP` as mmpretrain backbone (``backbone.<our layout>``, ``head.fc.*``) becomes an
mmengine checkpoint of the whole CS-UNet: the Swin branch under ``backbone.swin.`` and the
decoder's Swin blocks initialised from the mirrored encoder stages, as Swin-Unet does
(``layers_up.(3-i) <- layers.i`` there):

=======================================  ==========================================
decoder (``decode_head.layers_up``)        encoder (``backbone.swin.layers``)
=======================================  ==========================================
``layers_up.0`` (stride 16, 4C)          ``layers.2`` (stride 16, 4C)
``layers_up.1`` (stride 8, 2C)           ``layers.1`` (stride 8, 2C)
``layers_up.2`` (stride 4, C)            ``layers.0`` (stride 4, C)
=======================================  ==========================================

Block ``j`` <- block ``j`` for ``j < min(decoder depth, encoder depth)`` (so shifted blocks map to
shifted blocks); deeper decoder blocks keep the model's init and are listed in the meta. Only
``blocks.*`` are copied (the decoder's patch expanding, concat linears and norms have no encoder
counterpart).
"""
import math
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from ...fileio import ConversionError
from .pretrained import unwrap_checkpoint

__all__ = [
    'interpolate_relative_position_bias_table', 'find_swin_prefix', 'detect_swin_layout',
    'convert_swin_state_dict', 'swin_depths', 'decoder_block_mapping', 'mmpretrain_to_csunet',
    'FC3_INITS'
]

FC3_INITS = ('identity', 'zero', None)

_BLOCK = re.compile(r'^layers\.(\d+)\.blocks\.(\d+)\.(.+)$')
_DOWN = re.compile(r'^layers\.(\d+)\.downsample\.(norm|reduction)\.(weight|bias)$')
_KEEP = re.compile(r'^(patch_embed\.(proj|norm)\.(weight|bias)|norm\d*\.(weight|bias))$')
_BUFFERS = ('relative_position_index', 'attn_mask')


def interpolate_relative_position_bias_table(table: torch.Tensor,
                                             window_size: int) -> torch.Tensor:
    """Resize a Swin bias table ``((2w'-1)^2, heads)`` to ``((2w-1)^2, heads)`` (bicubic)."""
    length, heads = table.shape
    src = math.isqrt(length)
    if src * src != length or src % 2 == 0:
        raise ConversionError(f'relative_position_bias_table with {length} rows is not a '
                              f'(2w-1)^2 grid')
    dst = 2 * window_size - 1
    grid = table.float().t().reshape(1, heads, src, src)
    grid = F.interpolate(grid, size=(dst, dst), mode='bicubic', align_corners=False)
    return grid.reshape(heads, dst * dst).t().contiguous().to(table.dtype)


def find_swin_prefix(state: Dict[str, torch.Tensor]) -> str:
    """The prefix in front of the Swin keys (``''``, ``'backbone.'``, ``'module.swin_unet.'``,
    ...)."""
    prefixes = sorted({k[:-len('patch_embed.proj.weight')] for k in state
                       if k.endswith('patch_embed.proj.weight')})
    if any(k.endswith('patch_embed.projection.weight') for k in state) or any(
            '.attn.w_msa.' in k for k in state):
        raise ConversionError(
            'this is an mmpretrain/mmseg Swin checkpoint (`stages.*`, `attn.w_msa`, `ffn`); '
            'only Microsoft/timm/CS-UNet layouts are converted. Convert it to Microsoft layout '
            'first, or train SwinResMLP as the mmpretrain backbone and use mmpretrain2csunet.py')
    if not prefixes:
        raise ConversionError(
            f'no Swin patch embedding (`...patch_embed.proj.weight`) among the {len(state)} '
            f'tensors (e.g. {list(state)[:4]}): not a Swin checkpoint')
    if len(prefixes) > 1:
        raise ConversionError(f'several Swin models in the checkpoint, prefixes {prefixes}: '
                              f'pick one with prefix=')
    return prefixes[0]


def detect_swin_layout(state: Dict[str, torch.Tensor]) -> str:
    """``'microsoft'`` (also authors' / ours) or ``'timm'`` (timm >= 0.9) for un-prefixed keys."""
    if any(k.endswith(('logit_scale', 'cpb_mlp.0.weight')) for k in state):
        raise ConversionError('Swin V2 checkpoint (logit_scale / cpb_mlp): not supported by '
                              'SwinResMLP (a Swin V1 with ResMLP)')
    stages = {int(m.group(1)) for k in state for m in [_BLOCK.match(k)] if m}
    down = {int(m.group(1)) for k in state for m in [_DOWN.match(k)] if m}
    if not stages:
        raise ConversionError('no `layers.i.blocks.j.*` keys: not a Swin checkpoint')
    n = max(stages) + 1
    if not down or (0 in down and n - 1 not in down):
        return 'microsoft'
    if 0 not in down and down == set(range(1, n)):
        return 'timm'
    raise ConversionError(f'patch merging found in stages {sorted(down)} of {n}: neither the '
                          f'Microsoft (0..{n - 2}) nor the timm >= 0.9 (1..{n - 1}) layout')


def swin_depths(state: Dict[str, torch.Tensor]) -> Tuple[int, ...]:
    """Blocks per stage of a Swin state dict in our/Microsoft layout."""
    depth: Dict[int, int] = {}
    for k in state:
        m = _BLOCK.match(k)
        if m:
            i, j = int(m.group(1)), int(m.group(2))
            depth[i] = max(depth.get(i, 0), j + 1)
    missing = sorted(set(range(max(depth, default=-1) + 1)) - set(depth))
    if missing:
        raise ConversionError(f'Swin state dict has blocks in stages {sorted(depth)} but none in '
                              f'stage(s) {missing}: not a whole Swin (a truncated or filtered '
                              'checkpoint?)')
    return tuple(depth[i] for i in range(len(depth)))


def convert_swin_state_dict(checkpoint: dict,
                            window_size: int = 8,
                            fc3_init: Optional[str] = 'identity',
                            stage_norms: bool = False,
                            prefix: Optional[str] = None
                            ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Map a Swin checkpoint to :class:`SwinResMLP`'s state-dict layout (see module docstring).

    Args:
        checkpoint: What ``torch.load`` returned (wrappers ``model``/``state_dict`` allowed).
        window_size: Window of the target model (bias tables are resized to it).
        fc3_init: ``'identity'``, ``'zero'`` or None, for ResMLP ``fc3`` layers the source lacks.
        stage_norms: Write unit LayerNorms for the per-stage norms ``norm0``..``norm{S-2}`` of a
            ``skip_source='stage_output'`` target, where the source lacks them.
        prefix: Key prefix of the Swin part; found automatically when None.

    Returns:
        ``(state, info)``; ``info`` has ``layout``, ``prefix``, ``depths``, ``window_size``
        (source/target), ``from_source`` (count), ``initialised`` / ``dropped`` /
        ``outside_prefix`` (key lists) and ``fc3_init``.
    """
    if fc3_init not in FC3_INITS:
        raise ConversionError(f'fc3_init={fc3_init!r}: use one of {FC3_INITS}')
    state = unwrap_checkpoint(checkpoint, ConversionError, max_depth=2)
    if prefix is None:
        prefix = find_swin_prefix(state)
    outside = sorted(k for k in state if not k.startswith(prefix))
    state = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not state:
        raise ConversionError(f'no keys start with prefix {prefix!r}')
    layout = detect_swin_layout(state)
    n = max(int(m.group(1)) for k in state for m in [_BLOCK.match(k)] if m) + 1

    out: Dict[str, torch.Tensor] = OrderedDict()
    dropped: List[str] = []
    src_windows = set()
    for key, value in state.items():
        new = key
        if key.endswith(_BUFFERS) or key.startswith('head.') or key == 'absolute_pos_embed':
            dropped.append(key)
            continue
        m = _DOWN.match(key)
        if m:
            i = int(m.group(1)) - (1 if layout == 'timm' else 0)
            new = f'layers.{i}.downsample.{m.group(2)}.{m.group(3)}'
        elif key in ('norm.weight', 'norm.bias'):
            new = f'norm{n - 1}.' + key.split('.')[1]
        elif not (_BLOCK.match(key) or _KEEP.match(key)):
            dropped.append(key)  # e.g. a Swin-Unet decoder (layers_up.*, output.*)
            continue
        if key.endswith('relative_position_bias_table'):
            src_windows.add((math.isqrt(value.shape[0]) + 1) // 2)
            value = interpolate_relative_position_bias_table(value, window_size)
        out[new] = value
    from_source = len(out)

    initialised = []
    depths = swin_depths(out)
    for i, depth in enumerate(depths):
        for j in range(depth):
            base = f'layers.{i}.blocks.{j}.'
            if fc3_init is not None and base + 'mlp.fc3.weight' not in out:
                w = out[base + 'norm1.weight']
                dim = w.shape[0]
                eye = torch.eye(dim, dtype=w.dtype)
                out[base + 'mlp.fc3.weight'] = eye if fc3_init == 'identity' else eye * 0
                out[base + 'mlp.fc3.bias'] = torch.zeros(dim, dtype=w.dtype)
                initialised += [base + 'mlp.fc3.weight', base + 'mlp.fc3.bias']
        if stage_norms and i < len(depths) - 1 and f'norm{i}.weight' not in out:
            w = out[f'layers.{i}.blocks.0.norm1.weight']
            out[f'norm{i}.weight'] = torch.ones_like(w)
            out[f'norm{i}.bias'] = torch.zeros_like(w)
            initialised += [f'norm{i}.weight', f'norm{i}.bias']
    info = dict(layout=layout, prefix=prefix, depths=depths,
                window_size=dict(source=sorted(src_windows), target=window_size),
                from_source=from_source, initialised=initialised, dropped=dropped,
                outside_prefix=outside, fc3_init=fc3_init)
    return out, info


def decoder_block_mapping(encoder_depths: Sequence[int],
                          decoder_depths: Sequence[int]) -> List[Tuple[str, str]]:
    """``(decoder block, encoder block)`` prefixes, Swin-Unet style (see module docstring)."""
    levels = list(range(len(encoder_depths) - 2, -1, -1))  # 2, 1, 0 for four stages
    if len(decoder_depths) != len(levels):
        raise ConversionError(f'{len(decoder_depths)} decoder depths {tuple(decoder_depths)} for '
                              f'{len(encoder_depths)} encoder stages: need {len(levels)}')
    pairs = []
    for d, e in enumerate(levels):
        for j in range(min(encoder_depths[e], decoder_depths[d])):
            pairs.append((f'layers_up.{d}.blocks.{j}.', f'layers.{e}.blocks.{j}.'))
    return pairs


def mmpretrain_to_csunet(checkpoint: dict,
                         decoder_depths: Optional[Sequence[int]] = None,
                         window_size: int = 8,
                         fc3_init: Optional[str] = 'identity',
                         source_prefix: Optional[str] = None,
                         swin_prefix: str = 'backbone.swin.',
                         decoder_prefix: str = 'decode_head.'
                         ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """A CS-UNet state dict from a Swin classifier (mmpretrain, Microsoft or timm layout).

    Args:
        checkpoint: Loaded classifier checkpoint (mmpretrain: ``backbone.*`` + ``head.fc.*``).
        decoder_depths: Swin blocks of the decoder at strides 16, 8, 4; default mirrors the
            encoder (``(6, 2, 2)`` for ``(2, 2, 6, 2)``, :func:`mirrored_decoder_depths`), as
            ``SwinExpandDecoder(decoder_depths='original')`` does.
        window_size: Window of the CS-UNet encoder and decoder.
        fc3_init: See :func:`convert_swin_state_dict`.
        source_prefix: Prefix of the Swin backbone in ``checkpoint`` (found when None).
        swin_prefix: Where the Swin branch lives in CS-UNet.
        decoder_prefix: Where the decode head lives in CS-UNet.

    Returns:
        ``(state, meta)`` with keys ``backbone.swin.*`` and ``decode_head.layers_up.*``; ``meta``
        holds the Swin conversion info, ``mapping`` (decoder block -> encoder block prefixes) and
        ``decoder_not_initialised`` (decoder blocks deeper than their encoder stage).
    """
    swin, info = convert_swin_state_dict(checkpoint, window_size, fc3_init, prefix=source_prefix)
    depths = info['depths']
    from ..backbones.swin_resmlp import mirrored_decoder_depths  # backbones import utils
    decoder_depths = tuple(mirrored_decoder_depths(depths) if decoder_depths is None
                           else decoder_depths)
    pairs = decoder_block_mapping(depths, decoder_depths)
    out = OrderedDict((swin_prefix + k, v) for k, v in swin.items())
    for dec, enc in pairs:
        for k, v in swin.items():
            if k.startswith(enc):
                out[decoder_prefix + dec + k[len(enc):]] = v.clone()
    mapped = {dec for dec, _ in pairs}
    not_init = [f'{decoder_prefix}layers_up.{d}.blocks.{j}' for d, depth in
                enumerate(decoder_depths) for j in range(depth)
                if f'layers_up.{d}.blocks.{j}.' not in mapped]
    meta = dict(swin=info, encoder_depths=depths, decoder_depths=decoder_depths,
                mapping={decoder_prefix + d.rstrip('.'): swin_prefix + e.rstrip('.')
                         for d, e in pairs},
                decoder_not_initialised=not_init)
    return out, meta
