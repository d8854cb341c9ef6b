"""``--amp`` (csunet.engine.optimizers.amp): dtype choice per device, and one bf16 training step
of the tiny CS-UNet on the CPU."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from csunet.engine import AutocastOptimWrapper, enable_amp
from csunet.engine.optimizers import amp_dtype

ADAM = dict(type='Adam', lr=1e-3)


def test_dtype_per_device(monkeypatch):
    assert amp_dtype('cpu') is torch.bfloat16
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda *a, **k: True)
    assert amp_dtype('cuda') is torch.bfloat16
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda *a, **k: False)
    assert amp_dtype('cuda') is torch.float16


def test_enable_amp_configs(monkeypatch):
    cpu = enable_amp(dict(type='OptimWrapper', optimizer=ADAM, clip_grad=None), 'cpu')
    assert cpu == dict(type='AutocastOptimWrapper', dtype='bfloat16', optimizer=ADAM,
                       clip_grad=None)
    # a GPU without bf16 (pre-Ampere): mmengine's AmpOptimWrapper, fp16 with loss scaling
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda *a, **k: False)
    assert enable_amp(dict(optimizer=ADAM), 'cuda') == dict(
        type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic', optimizer=ADAM)
    already = dict(type='AmpOptimWrapper', optimizer=ADAM, dtype='bfloat16')
    assert enable_amp(copy.deepcopy(already), 'cuda') == already
    with pytest.raises(ValueError, match='OptimWrapper, got OptimWrapperDict'):
        enable_amp(dict(type='OptimWrapperDict'), 'cpu')


def test_autocast_wrapper_refuses_float16():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match='float16 needs loss scaling'):
        AutocastOptimWrapper(dtype='float16',
                             optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def _batch(num_classes, size=64, batch=2):
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
              for _ in range(batch)]
    samples = []
    for _ in range(batch):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, size, size), generator=g))
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size)))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_amp_train_step_tiny_csunet_cpu(tiny_csunet_cfg):
    """What ``tools/train.py --amp`` builds on the CPU: one step runs in bf16 and learns."""
    model = MODELS.build(tiny_csunet_cfg()).train()
    optim_cfg = enable_amp(dict(type='OptimWrapper', optimizer=ADAM), 'cpu')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    assert isinstance(optim_wrapper, AutocastOptimWrapper)

    # record the dtype every Linear / Conv2d computes in during the step
    dtypes = set()
    handles = [
        m.register_forward_hook(lambda mod, args, out: dtypes.add(out.dtype))
        for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    log_vars = model.train_step(_batch(model.decode_head.num_classes), optim_wrapper)
    for h in handles:
        h.remove()

    assert dtypes == {torch.bfloat16}  # autocast was on for the whole forward pass
    assert torch.isfinite(log_vars['loss']) and log_vars['loss'] > 0
    # parameters and Adam's state stay float32; every parameter Adam updated (those that got a
    # gradient: it keeps state for exactly those) moved
    state = optim_wrapper.optimizer.state
    assert state
    for name, param in model.named_parameters():
        assert param.dtype is torch.float32, name
        if param in state:
            assert state[param]['exp_avg'].dtype is torch.float32, name
            assert torch.isfinite(state[param]['exp_avg']).all(), name
            assert not torch.equal(param.detach(), before[name]), name
    # outside the wrapper's context, no autocast is left on
    assert not torch.is_autocast_enabled('cpu')
