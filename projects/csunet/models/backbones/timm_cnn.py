"""The CNN branch of CS-UNet: any timm CNN through ``features_only``."""
from typing import List, Optional, Sequence, Tuple, Union

import timm
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from timm.models._features import FeatureDictNet

from ..utils.checkpoint import checkpoint
from ..utils.cnn_convert import to_features_only
from .pretrained_mixin import PretrainedBranchMixin


@MODELS.register_module()
class TimmCNN(PretrainedBranchMixin, BaseModule):
    """Feature maps of a timm CNN at fixed strides (CS-UNet, CNN branch).

    Builds ``timm.create_model(model_name, features_only=True)`` and keeps, for each stride in
    ``out_strides``, the deepest timm feature level with that reduction (VGG's extra stride-1 level
    and every family's stride-2 stem are dropped). Families whose maps miss the expected size
    ``ceil(H / s) x ceil(W / s)`` (Inception's unpadded convolutions give e.g. 125 instead of 128 at
    stride 4) are resized to it bilinearly, so every family gives the same grid as the Swin branch.

    Random initialisation follows the official CS-UNet, whose CNN branch is torchvision /
    Cadene (``pretrainedmodels``) code: the last BatchNorm of each residual block starts at 1.
    timm's ResNet family (``resnet*``, ``resnext*``, ``seresnet*``, ``seresnext*``, ``ecaresnet*``
    ..., every model whose blocks have timm's ``zero_init_last`` hook) would set it to 0
    (``zero_init_last=True``, the "Bag of Tricks" default), which makes every residual block
    start as an identity; such models are built with ``zero_init_last=False`` unless
    ``model_kwargs`` says otherwise. Other families (``legacy_se*``, EfficientNet, MobileNet,
    DenseNet, VGG, Inception) have no such hook and are left as timm builds them. A loaded
    checkpoint overwrites the initialisation either way.

    Checkpoints: timm classification weights of ``model_name`` (or the output of
    ``tools/model_converters/micronet2timm.py``) load with ``init_cfg=dict(type='Pretrained',
    checkpoint=...)``; the names timm's ``features_only`` flattens (``features.0`` ->
    ``features_0`` in VGG, DenseNet, Inception) are mapped on load and the classifier is reported
    as unexpected. ``pretrained=True`` asks timm to download (needs network).

    Args:
        model_name: timm model name, e.g. ``'resnet50'``, ``'efficientnet_b4'``, ``'vgg16_bn'``.
        in_channels: Image channels.
        out_strides: Strides of the returned maps.
        pretrained: Let timm download its ImageNet weights.
        model_kwargs: Extra ``timm.create_model`` arguments.
        channels_last: Run the CNN in channels-last memory format (weights converted once, the
            image on entry). The maps keep that format, so the decoder's permute to tokens
            ``(B, H, W, C)`` is a free view. Same outputs up to float rounding.
        with_cp: Activation checkpointing in training: each segment of the network that ends
            at a returned map keeps only its input and is recomputed in backward. Segments,
            for the families timm builds as ``FeatureListNet`` (ResNet / ResNeXt /
            SE-ResNe(X)t, DenseNet, VGG, Inception, legacy SENet): the stem and first stage,
            then one stage each; for the others (EfficientNet, MobileNet) the whole network.
            The outputs and gradients are those without checkpointing, and the BatchNorm
            running statistics are updated once per step, not again by the recomputation
            (:func:`csunet.models.utils.checkpoint.checkpoint`). There is no selective variant,
            unlike the Swin blocks: timm's CNNs may apply in-place activations and additions
            to convolution outputs (VGG without BatchNorm), which selective checkpointing
            would have to keep unmodified.
        init_cfg: mmengine init config (see above).

    Shape:
        - Input: ``(B, in_channels, H, W)``.
        - Output: tuple of ``(B, C_s, ceil(H / s), ceil(W / s))`` for s in ``out_strides``;
          ``out_channels`` lists the C_s.
    """
    branch_name = 'cnn'

    def __init__(self,
                 model_name: str = 'resnet50',
                 in_channels: int = 3,
                 out_strides: Sequence[int] = (4, 8, 16, 32),
                 pretrained: bool = False,
                 model_kwargs: Optional[dict] = None,
                 channels_last: bool = True,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not timm.is_model(model_name):
            raise KeyError(f'cnn.model_name={model_name!r} is not a timm model '
                           f"(see timm.list_models('{model_name[:4]}*'))")
        self.model_name = model_name
        self.out_strides = tuple(out_strides)
        kwargs = dict(features_only=True, pretrained=pretrained, in_chans=in_channels,
                      **(model_kwargs or {}))
        model = timm.create_model(model_name, **kwargs)
        rebuild = False
        if 'zero_init_last' not in kwargs and any(
                hasattr(m, 'zero_init_last') for m in model.modules()):
            kwargs['zero_init_last'] = False  # official (torchvision / Cadene) init, see above
            rebuild = True
        reductions = model.feature_info.reduction()
        indices = []
        for stride in self.out_strides:
            matches = [i for i, r in enumerate(reductions) if r == stride]
            if not matches:
                raise ValueError(f'{model_name} has no feature map at stride {stride} '
                                 f'(its strides: {reductions})')
            indices.append(matches[-1])
        if indices != list(range(len(reductions))) or rebuild:
            # Only the kept levels, so that unused tail layers are not run.
            model = timm.create_model(model_name, out_indices=tuple(indices), **kwargs)
        self.channels_last = channels_last
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.out_channels: List[int] = model.feature_info.channels()
        self.with_cp = with_cp
        self._segments = self._checkpoint_segments()

    def _checkpoint_segments(self) -> Optional[List[List[str]]]:
        """Names of ``self.model``'s top-level modules, grouped into runs that end at a
        returned map; None where timm's model is not a module list (one segment of all)."""
        model = self.model
        if not isinstance(model, FeatureDictNet) or model.concat:
            return None
        segments, current = [], []
        for name in model.keys():
            current.append(name)
            if name in model.return_layers:
                segments.append(current)
                current = []
        return segments

    def _checkpointed_features(self, x: torch.Tensor) -> List[torch.Tensor]:
        if self._segments is None:
            return checkpoint(self.model, x, batchnorm_modules=[self.model])
        feats = []
        for names in self._segments:
            modules = [self.model[n] for n in names]

            def run(inp: torch.Tensor, modules=modules) -> torch.Tensor:
                for m in modules:
                    inp = m(inp)
                return inp

            x = checkpoint(run, x, batchnorm_modules=modules)
            feats.append(x)
        return feats

    def pretrained_target(self):
        return self.model

    def adapt_pretrained_state(self, state: dict) -> dict:
        renamed, unused = to_features_only(state, self.model)
        renamed.update((k, state[k]) for k in unused)  # reported as unexpected
        return renamed

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        h, w = x.shape[-2:]
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.with_cp and self.training and torch.is_grad_enabled():
            feats = self._checkpointed_features(x)
        else:
            feats = self.model(x)
        outs = []
        for stride, feat in zip(self.out_strides, feats):
            size = (-(-h // stride), -(-w // stride))
            if feat.shape[-2:] != size:
                feat = F.interpolate(feat, size=size, mode='bilinear', align_corners=False)
            outs.append(feat)
        return tuple(outs)
