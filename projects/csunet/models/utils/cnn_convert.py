"""Convert NASA MicroNet encoder checkpoints to timm models for CS-UNet's CNN branch.

NASA's MicroNet weights (Stuckner et al. 2022, ``nasa/pretrained-microscopy-models``) are
classification checkpoints of the encoders of ``segmentation_models_pytorch`` (smp):

* torchvision models: ``resnet*``, ``resnext*``, ``densenet*``, ``vgg*``, ``mobilenet_v2``;
* Cadene ``pretrainedmodels``: ``se_resnet*``, ``se_resnext*``, ``senet154``, ``inceptionv4``,
  ``inceptionresnetv2``;
* lukemelas ``efficientnet_pytorch``: ``efficientnet-b0`` .. ``b7``.

They are published as ``{encoder}_pretrained_{microscopynet|imagenet-microscopynet}_v{1.0|1.1}
.pth.tar`` (:func:`micronet_url`), each a plain state dict of the whole classifier (the head has
MicroNet's classes), sometimes with ``module.`` (``DataParallel``) or ``features.module.``
(VGG/DenseNet trained with a parallel ``features``) in the keys.

:func:`convert_micronet_state_dict` maps such a state dict to the timm model that computes the same
function (:data:`TIMM_NAMES`) in timm's classification layout, dropping the classifier. timm's
``features_only`` wrappers rename flattened ``nn.Sequential`` children (VGG ``features.0`` ->
``features_0``, DenseNet ``features.denseblock1`` -> ``features_denseblock1``) and omit layers after
the last feature map; :func:`to_features_only` maps a converted state dict onto such a model (what
:class:`~csunet.models.backbones.TimmCNN` holds as ``model``).

Numerical equivalence (random weights, eval mode; ``tests/test_models/test_utils/
test_cnn_convert.py``): resnet50, se_resnext50_32x4d, efficientnet-b4, densenet161 and vgg16_bn
give the same feature maps at strides 4/8/16/32 as the source model (max abs error < 1e-4).

EfficientNet: lukemelas' models use TensorFlow "SAME" padding and BatchNorm eps 1e-3, which timm
reproduces in ``tf_efficientnet_bN`` (``efficientnet_bN`` pads symmetrically with eps 1e-5 and does
NOT match). lukemelas pads *statically* for ``image_size`` (380 for b4); on other input sizes that
equals TF "SAME" except where a stride-2 layer sees an odd size, so build the source with
``image_size=<input size>`` to compare. Blocks are renamed from the flat ``_blocks.k`` to timm's
``blocks.stage.i``; stage boundaries are read off the checkpoint (every stage has its own output
width), so every depth multiplier works without a table.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from ...fileio import ConversionError
from .pretrained import unwrap_checkpoint

__all__ = [
    'ConversionError', 'TIMM_NAMES', 'NASA_URL_BASE', 'micronet_url', 'timm_name_for',
    'clean_micronet_state_dict', 'convert_micronet_state_dict', 'to_features_only'
]

NASA_URL_BASE = 'https://nasa-public-data.s3.amazonaws.com/microscopy_segmentation_models/'


def _timm_names() -> Dict[str, str]:
    names = {}
    for n in ('resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d',
              'resnext101_32x8d', 'densenet121', 'densenet161', 'densenet169', 'densenet201',
              'vgg11', 'vgg13', 'vgg16', 'vgg19', 'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn'):
        names[n] = n  # torchvision and timm share names and key layouts
    for n in ('se_resnet50', 'se_resnet101', 'se_resnet152', 'se_resnext50_32x4d',
              'se_resnext101_32x4d', 'senet154'):
        names[n] = 'legacy_' + n.replace('_', '', 1)  # timm's port of Cadene's SENet
    for i in range(8):
        names[f'efficientnet-b{i}'] = f'tf_efficientnet_b{i}'
    names.update({
        'mobilenet_v2': 'mobilenetv2_100',
        'inceptionv4': 'inception_v4',
        'inceptionresnetv2': 'inception_resnet_v2',
    })
    return names


#: smp / NASA encoder name -> timm model computing the same function.
TIMM_NAMES: Dict[str, str] = _timm_names()

#: Classifier keys of each source family (MicroNet's head), dropped by the conversion.
_HEAD = re.compile(r'^(fc|last_linear|classifier|_fc|classif)\.')


def timm_name_for(encoder: str) -> str:
    """timm model name for an smp/NASA encoder name (e.g. ``'se_resnext50_32x4d'``)."""
    if encoder not in TIMM_NAMES:
        raise ConversionError(
            f'encoder {encoder!r} has no verified timm equivalent; supported: '
            f'{sorted(TIMM_NAMES)} (NASA also publishes dpn* and xception, not converted)')
    return TIMM_NAMES[encoder]


def micronet_url(encoder: str, pretraining: str = 'microscopynet',
                 version: Optional[float] = None) -> str:
    """Download URL of a NASA MicroNet encoder, following NASA's naming.

    Args:
        encoder: smp encoder name, e.g. ``'se_resnext50_32x4d'``.
        pretraining: ``'microscopynet'`` (random init -> MicroNet) or ``'imagenet-microscopynet'``
            (ImageNet -> MicroNet); NASA's aliases ``'micronet'`` / ``'image-micronet'`` work too.
        version: 1.0 or 1.1. Only resnet50/microscopynet exists in 1.1 (NASA's default there);
            everything else is 1.0, which is the default for it.
    """
    aliases = {'micronet': 'microscopynet', 'image-micronet': 'imagenet-microscopynet',
               'imagenet-micronet': 'imagenet-microscopynet'}
    pretraining = aliases.get(pretraining, pretraining)
    if pretraining not in ('microscopynet', 'imagenet-microscopynet'):
        raise ConversionError(f"pretraining {pretraining!r}: use 'microscopynet' or "
                              f"'imagenet-microscopynet'")
    if encoder == 'resnext101_32x8d':  # published under a shortened name, 1.0 only
        return NASA_URL_BASE + 'resnext101_pretrained_microscopynet_v1.0.pth.tar'
    if version is None:
        version = 1.1 if (encoder, pretraining) == ('resnet50', 'microscopynet') else 1.0
    if float(version) not in (1.0, 1.1):
        raise ConversionError(f'version {version}: NASA publishes 1.0 and 1.1')
    return NASA_URL_BASE + f'{encoder}_pretrained_{pretraining}_v{float(version)}.pth.tar'


def clean_micronet_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """Tensor dict of a NASA/smp checkpoint with wrappers and parallel prefixes removed.

    Unwraps ``state_dict``/``model``; removes ``module.`` anywhere it starts a path component
    (``module.x``, ``features.module.x``); keeps only ``encoder.*`` of a whole smp segmentation
    model; renames pre-0.4 torchvision DenseNet keys (``norm.1`` -> ``norm1``).
    """
    state = unwrap_checkpoint(checkpoint, ConversionError)
    if not state:
        raise ConversionError('checkpoint holds no tensors')
    state = {re.sub(r'(^|\.)module\.', r'\1', k): v for k, v in state.items()}
    if any(k.startswith('encoder.') for k in state) and any(
            k.startswith(('decoder.', 'segmentation_head.')) for k in state):
        state = {k[len('encoder.'):]: v for k, v in state.items() if k.startswith('encoder.')}
    old_dense = re.compile(r'^(.*denselayer\d+\.(?:norm|relu|conv))\.([12])\.'
                           r'(weight|bias|running_mean|running_var|num_batches_tracked)$')
    return {old_dense.sub(r'\1\2.\3', k): v for k, v in state.items()}


def _convert_efficientnet(state: Dict[str, torch.Tensor],
                          stem: str = '_conv_stem', stem_bn: str = '_bn0'
                          ) -> Dict[str, torch.Tensor]:
    """lukemelas EfficientNet (``_blocks.k._expand_conv`` ...) -> timm (``blocks.s.i.conv_pw``)."""
    blocks = sorted({int(m.group(1)) for k in state for m in [re.match(r'_blocks\.(\d+)\.', k)]
                     if m})
    if not blocks or blocks != list(range(len(blocks))):
        raise ConversionError('no contiguous `_blocks.N` keys: not an efficientnet_pytorch model')
    # A new timm stage starts wherever the output width changes.
    position, stage, idx, prev = {}, -1, 0, None
    for b in blocks:
        out = state[f'_blocks.{b}._project_conv.weight'].shape[0]
        if out != prev:
            stage, idx, prev = stage + 1, 0, out
        position[b] = (stage, idx)
        idx += 1
    expanded = {b: f'_blocks.{b}._expand_conv.weight' in state for b in blocks}
    out = OrderedDict()
    top = {stem: 'conv_stem', stem_bn: 'bn1', '_conv_head': 'conv_head', '_bn1': 'bn2'}
    for key, value in state.items():
        m = re.match(r'_blocks\.(\d+)\.(\w+)\.(.+)$', key)
        if m:
            b, layer, param = int(m.group(1)), m.group(2), m.group(3)
            if expanded[b]:  # inverted residual
                names = {'_expand_conv': 'conv_pw', '_bn0': 'bn1', '_depthwise_conv': 'conv_dw',
                         '_bn1': 'bn2', '_project_conv': 'conv_pwl', '_bn2': 'bn3'}
            else:  # depthwise-separable (expand ratio 1)
                names = {'_depthwise_conv': 'conv_dw', '_bn1': 'bn1', '_project_conv': 'conv_pw',
                         '_bn2': 'bn2'}
            names.update({'_se_reduce': 'se.conv_reduce', '_se_expand': 'se.conv_expand'})
            if layer not in names:
                raise ConversionError(f'unknown EfficientNet block layer in {key!r}')
            s, i = position[b]
            out[f'blocks.{s}.{i}.{names[layer]}.{param}'] = value
            continue
        head, _, param = key.partition('.')
        if head not in top:
            raise ConversionError(f'unknown EfficientNet key {key!r}')
        out[f'{top[head]}.{param}'] = value
    return out


def _convert_mobilenet_v2(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """torchvision MobileNetV2 (``features.k.conv.*``) -> timm ``mobilenetv2_100``."""
    n = max(int(m.group(1)) for k in state for m in [re.match(r'features\.(\d+)\.', k)] if m)
    position, stage, idx, prev = {}, -1, 0, None
    for b in range(1, n):
        w = [v for k, v in state.items() if k.startswith(f'features.{b}.conv.')
             and k.endswith('weight') and v.dim() == 4][-1]
        if w.shape[0] != prev:
            stage, idx, prev = stage + 1, 0, w.shape[0]
        position[b] = (stage, idx)
        idx += 1
    out = OrderedDict()
    for key, value in state.items():
        m = re.match(r'features\.(\d+)\.(.+)$', key)
        if not m:
            raise ConversionError(f'unknown MobileNetV2 key {key!r}')
        b, rest = int(m.group(1)), m.group(2)
        if b == 0:
            new = {'0': 'conv_stem', '1': 'bn1'}[rest.split('.')[0]] + rest[1:]
        elif b == n:
            new = {'0': 'conv_head', '1': 'bn2'}[rest.split('.')[0]] + rest[1:]
        else:
            s, i = position[b]
            has_expand = f'features.{b}.conv.3.weight' in state
            if has_expand:
                names = {'conv.0.0': 'conv_pw', 'conv.0.1': 'bn1', 'conv.1.0': 'conv_dw',
                         'conv.1.1': 'bn2', 'conv.2': 'conv_pwl', 'conv.3': 'bn3'}
            else:
                names = {'conv.0.0': 'conv_dw', 'conv.0.1': 'bn1', 'conv.1': 'conv_pw',
                         'conv.2': 'bn2'}
            layer, param = rest.rsplit('.', 1)
            if layer not in names:
                raise ConversionError(f'unknown MobileNetV2 key {key!r}')
            new = f'blocks.{s}.{i}.{names[layer]}.{param}'
        out[new] = value
    return out


def convert_micronet_state_dict(checkpoint: dict, encoder: str
                                ) -> Tuple[str, Dict[str, torch.Tensor], dict]:
    """Map a NASA MicroNet (smp encoder) checkpoint to a timm model's state dict.

    Args:
        checkpoint: What ``torch.load`` returned for the ``.pth.tar`` (or any state dict of the
            source classifier / smp encoder).
        encoder: smp/NASA encoder name (a key of :data:`TIMM_NAMES`).

    Returns:
        ``(timm_name, state, info)``: the timm model name, its state dict in timm's
        *classification* layout without the classifier, and ``info`` with ``encoder``,
        ``timm_name``, ``dropped_head`` (source classifier keys) and ``num_tensors``.
    """
    timm_name = timm_name_for(encoder)
    state = clean_micronet_state_dict(checkpoint)
    dropped = sorted(k for k in state if _HEAD.match(k))
    state = OrderedDict((k, v) for k, v in state.items() if not _HEAD.match(k))
    if encoder.startswith('efficientnet-'):
        if not any(k.startswith('_blocks.') for k in state):
            raise ConversionError(f'{encoder}: expected efficientnet_pytorch keys '
                                  f'(`_conv_stem`, `_blocks.N`), got e.g. {list(state)[:3]}')
        state = _convert_efficientnet(state)
    elif encoder == 'mobilenet_v2':
        state = _convert_mobilenet_v2(state)
    return timm_name, state, dict(encoder=encoder, timm_name=timm_name, dropped_head=dropped,
                                  num_tensors=len(state))


def to_features_only(state: Dict[str, torch.Tensor], model: nn.Module
                     ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename a timm classification state dict for a timm ``features_only`` model.

    timm's ``FeatureListNet`` flattens top-level ``nn.Sequential`` children into
    ``parent_child`` modules (VGG, DenseNet, Inception-v4) and drops layers after the last feature
    (e.g. EfficientNet's ``conv_head``).

    Args:
        state: timm classification-layout tensors (:func:`convert_micronet_state_dict`).
        model: The ``features_only`` model (``TimmCNN.model``).

    Returns:
        ``(renamed, unused)``: tensors under the feature model's names, and the source keys the
        feature model has no place for.
    """
    target = set(model.state_dict())
    renamed, unused = OrderedDict(), []
    for key, value in state.items():
        flat = key.replace('.', '_', 1)
        if key in target:
            renamed[key] = value
        elif flat in target:
            renamed[flat] = value
        else:
            unused.append(key)
    return renamed, unused
