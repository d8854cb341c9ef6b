"""NASA MicroNet (smp encoder) -> timm conversion: numerical parity with the source libraries.

Each source model is built with random weights by its own library (torchvision, Cadene
``pretrainedmodels``, lukemelas ``efficientnet_pytorch``), its BatchNorm statistics randomised so
that every layer matters, converted, loaded into ``TimmCNN`` through ``init_cfg`` (all tensors must
load) and compared with the source's own intermediate features at strides 4/8/16/32.
"""
import pytest
import torch
import torchvision
from torch import nn

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.fileio import ConversionError, save_checkpoint_atomic
from csunet.models.backbones.timm_cnn import TimmCNN
from csunet.models.utils.cnn_convert import (TIMM_NAMES, clean_micronet_state_dict,
                                             convert_micronet_state_dict, micronet_url,
                                             timm_name_for, to_features_only)

X = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def _randomise_bn(model: nn.Module) -> nn.Module:
    g = torch.Generator().manual_seed(2)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.weight.data = torch.rand(m.weight.shape, generator=g) + 0.5
            m.bias.data = torch.randn(m.bias.shape, generator=g) * 0.1
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model.eval()


def _convert_and_load(encoder, source, tmp_path):
    """Convert ``source`` as NASA would ship it (whole classifier, ``module.`` prefix) and load it
    into TimmCNN via init_cfg; return the TimmCNN and its load report."""
    shipped = {'module.' + k: v for k, v in source.state_dict().items()}
    timm_name, state, info = convert_micronet_state_dict(shipped, encoder)
    assert timm_name == TIMM_NAMES[encoder]
    assert info['dropped_head'], 'the classifier must be dropped'
    # The sources run in contiguous NCHW: so does TimmCNN here, so that the features match to
    # float rounding of the same kernels and the tolerance tests the weight mapping alone (the
    # channels-last default rounds differently, ~1e-6 relative, at these randomised-BN
    # magnitudes of up to ~1e3 more than the absolute 1e-4; it is compared with the contiguous
    # CNN in tests/test_models/test_same_math.py).
    cnn = TimmCNN(model_name=timm_name, channels_last=False)
    state, unused = to_features_only(state, cnn.model)
    path = str(tmp_path / f'{timm_name}.pth')
    save_checkpoint_atomic({'state_dict': state}, path)
    cnn.init_cfg = dict(type='Pretrained', checkpoint=path, min_loaded_ratio=1.0)
    cnn.init_weights()
    report = cnn.model.pretrained_report
    assert not report.missing and not report.unexpected and not report.mismatched
    return cnn.eval(), report, unused


def _assert_parity(cnn, expected):
    with torch.no_grad():
        got = cnn(X)
    assert len(got) == 4
    for g, e, stride in zip(got, expected, (4, 8, 16, 32)):
        assert g.shape == e.shape, f'stride {stride}: {g.shape} vs {e.shape}'
        assert g.shape[-1] == 64 // stride
        assert e.abs().mean() > 1e-2, 'features vanished: the comparison would be vacuous'
        torch.testing.assert_close(g, e, atol=1e-4, rtol=1e-4, msg=f'stride {stride}')


def test_resnet50_parity(tmp_path):
    src = _randomise_bn(torchvision.models.resnet50())
    cnn, report, unused = _convert_and_load('resnet50', src, tmp_path)
    assert len(report.loaded) == 318 and not unused
    with torch.no_grad():
        h = src.maxpool(src.relu(src.bn1(src.conv1(X))))
        feats = []
        for layer in (src.layer1, src.layer2, src.layer3, src.layer4):
            h = layer(h)
            feats.append(h)
    _assert_parity(cnn, feats)


def test_se_resnext50_parity(tmp_path):
    import pretrainedmodels  # requirements/optional.txt, which tools/run_tests.sh installs
    src = _randomise_bn(pretrainedmodels.se_resnext50_32x4d(pretrained=None))
    cnn, report, _ = _convert_and_load('se_resnext50_32x4d', src, tmp_path)
    assert len(report.loaded) == 382
    with torch.no_grad():
        h = src.layer0(X)
        feats = []
        for layer in (src.layer1, src.layer2, src.layer3, src.layer4):
            h = layer(h)
            feats.append(h)
    _assert_parity(cnn, feats)


def test_efficientnet_b4_parity(tmp_path):
    import efficientnet_pytorch  # requirements/optional.txt, which tools/run_tests.sh installs

    # lukemelas pads statically for image_size; build it for the test input so that its padding
    # is TF "SAME" on this input, as timm's tf_efficientnet pads dynamically.
    src = _randomise_bn(efficientnet_pytorch.EfficientNet.from_name('efficientnet-b4',
                                                                    image_size=64))
    cnn, report, unused = _convert_and_load('efficientnet-b4', src, tmp_path)
    assert len(report.loaded) == 698
    assert unused == ['conv_head.weight', 'bn2.weight', 'bn2.bias', 'bn2.running_mean',
                      'bn2.running_var', 'bn2.num_batches_tracked']
    with torch.no_grad():
        ends = src.extract_endpoints(X)
    _assert_parity(cnn, [ends[f'reduction_{i}'] for i in (2, 3, 4, 5)])


def test_densenet161_parity(tmp_path):
    src = _randomise_bn(torchvision.models.densenet161())
    cnn, report, _ = _convert_and_load('densenet161', src, tmp_path)
    assert len(report.loaded) == 965
    feats, h = [], X
    with torch.no_grad():
        for name, layer in src.features.named_children():
            h = layer(h)
            if name in ('denseblock1', 'denseblock2', 'denseblock3'):
                feats.append(h)
        feats.append(torch.relu(h))  # timm's norm5 is BatchNorm+ReLU
    _assert_parity(cnn, feats)


def test_vgg16_bn_parity(tmp_path):
    src = _randomise_bn(torchvision.models.vgg16_bn())
    cnn, report, _ = _convert_and_load('vgg16_bn', src, tmp_path)
    assert len(report.loaded) == 91
    layers, feats, h, stride = list(src.features), [], X, 1
    with torch.no_grad():
        for i, layer in enumerate(layers):
            h = layer(h)
            stride *= 2 if isinstance(layer, nn.MaxPool2d) else 1
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if nxt is None or (isinstance(nxt, nn.MaxPool2d) and stride >= 4):
                feats.append(h)  # before each pool from stride 4 on, and the last pool
    _assert_parity(cnn, feats)


def test_micronet_url():
    base = 'https://nasa-public-data.s3.amazonaws.com/microscopy_segmentation_models/'
    assert micronet_url('resnet50') == base + 'resnet50_pretrained_microscopynet_v1.1.pth.tar'
    assert micronet_url('se_resnext50_32x4d', 'image-micronet') == (
        base + 'se_resnext50_32x4d_pretrained_imagenet-microscopynet_v1.0.pth.tar')
    assert micronet_url('efficientnet-b4', 'micronet', 1.0).endswith(
        'efficientnet-b4_pretrained_microscopynet_v1.0.pth.tar')
    assert micronet_url('resnext101_32x8d').endswith('resnext101_pretrained_microscopynet_v1.0'
                                                     '.pth.tar')
    with pytest.raises(ConversionError, match='pretraining'):
        micronet_url('resnet50', 'imagenet')


def test_names_and_errors():
    assert timm_name_for('se_resnext50_32x4d') == 'legacy_seresnext50_32x4d'
    assert timm_name_for('senet154') == 'legacy_senet154'
    assert timm_name_for('efficientnet-b4') == 'tf_efficientnet_b4'
    import timm
    assert all(timm.is_model(n) for n in TIMM_NAMES.values())
    with pytest.raises(ConversionError, match='dpn92'):
        timm_name_for('dpn92')
    with pytest.raises(ConversionError, match='efficientnet_pytorch'):
        convert_micronet_state_dict({'conv1.weight': torch.zeros(1)}, 'efficientnet-b0')
    with pytest.raises(ConversionError, match='no tensors'):
        clean_micronet_state_dict({'epoch': 3})


def test_clean_state_dict_prefixes():
    t = torch.zeros(1)
    state = clean_micronet_state_dict({'state_dict': {
        'features.module.denseblock1.denselayer1.norm.1.weight': t, 'module.fc.bias': t}})
    assert set(state) == {'features.denseblock1.denselayer1.norm1.weight', 'fc.bias'}
    smp = clean_micronet_state_dict({'encoder.conv1.weight': t, 'decoder.x.weight': t,
                                     'segmentation_head.0.weight': t})
    assert set(smp) == {'conv1.weight'}
