"""Shared pytest fixtures. ``import csunet`` first: it makes mmseg importable on mmcv-lite."""
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

import csunet  # noqa: F401  (activates csunet.compat before mmseg is imported)

REPO_ROOT = Path(__file__).resolve().parents[1]
NASA_ROOT = REPO_ROOT.parent / 'shared' / 'data' / 'nasa_benchmark'


@pytest.fixture(autouse=True)
def _mmseg_scope_and_seed():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    yield


def _tiny_csunet_cfg(num_classes: int = 3, cnn: str = 'resnet18') -> dict:
    """A small CS-UNet (``CSUNet`` segmentor) for fast tests: embed 32, one block per stage. The
    decoder's widths, depths, heads and drop-path rate are derived from the encoder at build."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/models/csunet.py'))
    model = cfg.model
    model.backbone.swin.update(
        embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8), drop_path_rate=0.)
    if cnn:
        model.backbone.cnn.model_name = cnn
    else:
        model.backbone.cnn = None
    model.decode_head.num_classes = num_classes
    return model


@pytest.fixture
def tiny_csunet_cfg():
    """Factory of small CS-UNet model configs (see :func:`_tiny_csunet_cfg`)."""
    return _tiny_csunet_cfg
