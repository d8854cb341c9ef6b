"""Shared pytest fixtures. ``import csunet`` first: it makes mmseg importable on mmcv-lite."""
from pathlib import Path

import csunet  # noqa: F401  (activates csunet.compat before mmseg is imported)
import pytest
import torch
from mmengine.registry import init_default_scope

REPO_ROOT = Path(__file__).resolve().parents[1]
NASA_ROOT = REPO_ROOT.parent / 'shared' / 'data' / 'nasa_benchmark'


@pytest.fixture(autouse=True)
def _mmseg_scope_and_seed():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    yield


def _tiny_csunet_cfg(num_classes: int = 3, cnn: str = 'resnet18') -> dict:
    """A small CS-UNet (EncoderDecoder) for fast tests: embed 32, one block per stage."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/models/csunet.py'))
    model = cfg.model
    model.backbone.swin.update(
        embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8), drop_path_rate=0.)
    model.backbone.cnn.model_name = cnn
    from csunet.models import TimmCNN
    cnn_channels = TimmCNN(cnn).out_channels if cnn else []
    if not cnn:
        model.backbone.cnn = None
    model.decode_head.update(
        in_channels=[32, 64, 128, 256] + cnn_channels, channels=32, decoder_depths=(1, 1, 1),
        num_heads=(4, 2, 1), drop_path_rate=0., bottleneck_depth=1,
        num_classes=num_classes)
    return model


@pytest.fixture
def tiny_csunet_cfg():
    """Factory of small CS-UNet model configs (see :func:`_tiny_csunet_cfg`)."""
    return _tiny_csunet_cfg
