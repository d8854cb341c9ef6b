"""init_cfg loads a Swin checkpoint and a CNN checkpoint into their branches independently."""
import pytest
import timm
import torch
from mmseg.registry import MODELS

from csunet.models import CSUNetEncoder
from csunet.models.utils import PretrainedLoadError

SWIN = dict(embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8))


@pytest.fixture
def checkpoints(tmp_path):
    """A Swin-branch checkpoint inside a whole CS-UNet checkpoint (mmengine layout) and a timm
    classification checkpoint of resnet18 (with its fc head, as timm/ImageNet files have)."""
    donor = CSUNetEncoder(swin=SWIN, cnn=None)
    swin_ckpt = tmp_path / 'csunet_full.pth'
    torch.save({'meta': {'epoch': 3},
                'state_dict': {f'backbone.swin.{k}': v
                               for k, v in donor.swin.state_dict().items()}},
               swin_ckpt)
    resnet = timm.create_model('resnet18')
    cnn_ckpt = tmp_path / 'resnet18_classifier.pth'
    torch.save(resnet.state_dict(), cnn_ckpt)
    return donor, str(swin_ckpt), resnet, str(cnn_ckpt)


def test_each_branch_loads_its_own_checkpoint(checkpoints):
    donor, swin_ckpt, resnet, cnn_ckpt = checkpoints
    enc = MODELS.build(dict(
        type='CSUNetEncoder',
        swin=dict(SWIN, init_cfg=dict(type='Pretrained', checkpoint=swin_ckpt,
                                      prefix='backbone.swin.')),
        cnn=dict(model_name='resnet18', init_cfg=dict(type='Pretrained', checkpoint=cnn_ckpt))))
    enc.init_weights()
    for k, v in donor.swin.state_dict().items():
        assert torch.equal(enc.swin.state_dict()[k], v), k
    cnn_state = enc.cnn.model.state_dict()
    for k, v in cnn_state.items():
        assert torch.equal(v, resnet.state_dict()[k]), k
    swin_report, cnn_report = enc.swin.pretrained_report, enc.cnn.model.pretrained_report
    assert swin_report.loaded_ratio == 1. and not swin_report.unexpected
    assert cnn_report.loaded_ratio == 1.
    assert cnn_report.unexpected == ['fc.bias', 'fc.weight']  # the classifier head


def test_branches_are_independent(checkpoints):
    _, _, resnet, cnn_ckpt = checkpoints

    def initialised(cnn_init_cfg):
        torch.manual_seed(0)
        enc = CSUNetEncoder(swin=SWIN, cnn=dict(model_name='resnet18', init_cfg=cnn_init_cfg))
        enc.init_weights()
        return enc

    enc = initialised(dict(type='Pretrained', checkpoint=cnn_ckpt))
    plain = initialised(None)  # the same seed, no checkpoint anywhere
    for k, v in enc.cnn.model.state_dict().items():
        assert torch.equal(v, resnet.state_dict()[k]), k
    assert not hasattr(enc.swin, 'pretrained_report')
    # the Swin branch only got its default (truncated-normal) initialisation: tensor for tensor
    # what it gets when no branch loads a checkpoint
    swin, swin_plain = enc.swin.state_dict(), plain.swin.state_dict()
    assert swin.keys() == swin_plain.keys()
    for k, v in swin.items():
        assert torch.equal(v, swin_plain[k]), k
    # ... and that initialisation is not vacuous: the CNN branch did change
    assert not torch.equal(plain.cnn.model.conv1.weight, resnet.conv1.weight)


def test_mismatched_checkpoint_fails_loudly(checkpoints):
    _, _, _, cnn_ckpt = checkpoints
    enc = CSUNetEncoder(swin=dict(SWIN, init_cfg=dict(type='Pretrained', checkpoint=cnn_ckpt)))
    with pytest.raises(PretrainedLoadError, match=r'\[swin\].*loaded 0'):
        enc.init_weights()


def test_wrong_prefix_fails_loudly(checkpoints):
    _, swin_ckpt, _, _ = checkpoints
    enc = CSUNetEncoder(swin=dict(SWIN, init_cfg=dict(type='Pretrained', checkpoint=swin_ckpt,
                                                      prefix='backbone.cnn.')))
    with pytest.raises(PretrainedLoadError, match='prefix'):
        enc.init_weights()


def test_missing_checkpoint_names_the_file(tmp_path):
    missing = str(tmp_path / 'nope' / 'swin_microlite.pth')
    enc = CSUNetEncoder(swin=dict(SWIN, init_cfg=dict(type='Pretrained', checkpoint=missing)))
    with pytest.raises(PretrainedLoadError, match='file not found.*swin_microlite.pth'):
        enc.init_weights()


def test_unreadable_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / 'truncated.pth'
    bad.write_bytes(b'not a checkpoint')
    enc = CSUNetEncoder(swin=dict(SWIN, init_cfg=dict(type='Pretrained', checkpoint=str(bad))))
    with pytest.raises(PretrainedLoadError, match='cannot read checkpoint.*truncated.pth'):
        enc.init_weights()


def test_unknown_init_cfg_key(checkpoints):
    _, swin_ckpt, _, _ = checkpoints
    enc = CSUNetEncoder(swin=dict(SWIN, init_cfg=dict(type='Pretrained', checkpoint=swin_ckpt,
                                                      prefx='backbone.swin.')))
    with pytest.raises(KeyError, match='prefx'):
        enc.init_weights()


def test_classification_checkpoint_with_flattened_feature_names(tmp_path):
    # timm's features_only flattens DenseNet's `features.denseblock1` into `features_denseblock1`;
    # a plain timm classification checkpoint must still load completely.
    donor = timm.create_model('densenet121')
    path = tmp_path / 'densenet121.pth'
    torch.save({'state_dict': donor.state_dict()}, path)
    enc = CSUNetEncoder(swin=SWIN, cnn=dict(model_name='densenet121', init_cfg=dict(
        type='Pretrained', checkpoint=str(path), min_loaded_ratio=1.0)))
    enc.init_weights()
    report = enc.cnn.model.pretrained_report
    assert report.loaded_ratio == 1. and not report.mismatched
    assert set(report.unexpected) == {'classifier.weight', 'classifier.bias'}
    assert torch.equal(enc.cnn.model.features_denseblock1.denselayer1.conv1.weight,
                       donor.features.denseblock1.denselayer1.conv1.weight)
