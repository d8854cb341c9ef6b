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


def _microsoft_swin_checkpoint(path, embed=16, heads=(1, 2, 4, 8), depths=(2, 2, 6, 2), window=7):
    """A random Swin in Microsoft's layout (``{'model': ...}``, ``layers.i.downsample`` for
    i < 3, final ``norm``, classifier ``head``, index buffers), window 7 like Swin-T."""
    state = {'patch_embed.proj.weight': torch.randn(embed, 3, 4, 4),
             'patch_embed.proj.bias': torch.randn(embed),
             'patch_embed.norm.weight': torch.randn(embed),
             'patch_embed.norm.bias': torch.randn(embed)}
    for i, (depth, h) in enumerate(zip(depths, heads)):
        c = embed * 2**i
        for j in range(depth):
            b = f'layers.{i}.blocks.{j}.'
            shapes = {'norm1.weight': (c, ), 'norm1.bias': (c, ),
                      'attn.relative_position_bias_table': ((2 * window - 1)**2, h),
                      'attn.qkv.weight': (3 * c, c), 'attn.qkv.bias': (3 * c, ),
                      'attn.proj.weight': (c, c), 'attn.proj.bias': (c, ),
                      'norm2.weight': (c, ), 'norm2.bias': (c, ),
                      'mlp.fc1.weight': (4 * c, c), 'mlp.fc1.bias': (4 * c, ),
                      'mlp.fc2.weight': (c, 4 * c), 'mlp.fc2.bias': (c, )}
            state.update({b + k: torch.randn(s) for k, s in shapes.items()})
            state[b + 'attn.relative_position_index'] = torch.zeros(window**4, dtype=torch.long)
        if i < len(depths) - 1:
            state[f'layers.{i}.downsample.norm.weight'] = torch.randn(4 * c)
            state[f'layers.{i}.downsample.norm.bias'] = torch.randn(4 * c)
            state[f'layers.{i}.downsample.reduction.weight'] = torch.randn(2 * c, 4 * c)
    c = embed * 2**(len(depths) - 1)
    state.update({'norm.weight': torch.randn(c), 'norm.bias': torch.randn(c),
                  'head.weight': torch.randn(10, c), 'head.bias': torch.randn(10)})
    torch.save({'model': state}, path)
    return state


@pytest.fixture
def microsoft_swin_checkpoint():
    """``f(path, embed=16, heads=(1, 2, 4, 8), depths=(2, 2, 6, 2), window=7)``: saves a random
    Swin in Microsoft's layout to ``path`` and returns its state dict (see
    :func:`_microsoft_swin_checkpoint`)."""
    return _microsoft_swin_checkpoint


@pytest.fixture
def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (torchrun's master port in the distributed tests)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
