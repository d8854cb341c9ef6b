"""csunet.models.utils.checkpoint: recomputation that keeps outputs, gradients and BN statistics."""
import copy

import pytest
import torch
import torch.utils.checkpoint as cp
from torch import nn

from csunet.models import TimmCNN
from csunet.models.layers import SwinResMLPStage
from csunet.models.utils.checkpoint import checkpoint, frozen_running_stats


def conv_bn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8, momentum=None)).train()


def step(fn, module, x):
    """Output, input gradient, parameter gradients and buffers after one forward/backward."""
    module.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_()
    y = fn(x)
    y.square().mean().backward()
    return (y.detach(), x.grad, [p.grad for p in module.parameters()],
            [b.clone() for b in module.buffers()])


def assert_steps_equal(a, b):
    for u, v in zip(a[:2], b[:2]):
        torch.testing.assert_close(u, v, rtol=0, atol=0)
    for group_a, group_b in zip(a[2:], b[2:]):
        assert len(group_a) == len(group_b)
        for u, v in zip(group_a, group_b):
            torch.testing.assert_close(u, v, rtol=0, atol=0)


def test_checkpoint_with_batchnorm_updates_running_statistics_once():
    x = torch.randn(4, 3, 12, 10)
    plain, checkpointed, naive = conv_bn(), conv_bn(), conv_bn()
    ref = step(plain, plain, x)
    assert_steps_equal(
        step(lambda t: checkpoint(checkpointed, t, batchnorm_modules=[checkpointed]),
             checkpointed, x), ref)
    # A plain checkpoint reruns the BatchNorms in backward: their statistics move twice
    # (momentum 0.1) or count the batch twice (momentum None).
    naive_step = step(lambda t: cp.checkpoint(naive, t, use_reentrant=False), naive, x)
    assert not torch.equal(naive_step[3][0], ref[3][0])  # running_mean of the first BN
    assert naive_step[3][-1].item() == 2 and ref[3][-1].item() == 1  # num_batches_tracked
    assert [m.momentum for m in checkpointed if isinstance(m, nn.BatchNorm2d)] == [0.1, None]


def test_frozen_running_stats_restores_momentum_even_on_error():
    module = conv_bn()
    before = [b.clone() for b in module.buffers()]
    with pytest.raises(RuntimeError, match='boom'):
        with frozen_running_stats(module):
            module(torch.randn(2, 3, 5, 5))  # normalises with batch statistics
            raise RuntimeError('boom')
    assert all(torch.equal(a, b) for a, b in zip(before, module.buffers()))
    assert [m.momentum for m in module if isinstance(m, nn.BatchNorm2d)] == [0.1, None]
    module(torch.randn(2, 3, 5, 5))  # and updates them again afterwards
    assert not torch.equal(before[0], module[1].running_mean)


@pytest.mark.parametrize('model_name', ['resnet18', 'vgg11_bn', 'efficientnet_b0'])
def test_timm_cnn_with_cp_changes_no_output_gradient_or_statistic(model_name):
    plain = TimmCNN(model_name).train()
    checkpointed = copy.deepcopy(plain)
    checkpointed.with_cp = True
    # EfficientNet is not a module list for timm: one segment of the whole network.
    assert (checkpointed._segments is None) == (model_name == 'efficientnet_b0')
    x = torch.randn(2, 3, 72, 56)

    def run(model):
        return lambda t: torch.cat([f.flatten(1) for f in model(t)], 1)

    assert_steps_equal(step(run(checkpointed), checkpointed, x), step(run(plain), plain, x))


def test_timm_cnn_with_cp_recomputes_each_segment():
    model = TimmCNN('resnet18', with_cp=True).train()
    # Stem + layer1 (ends at the stride-4 map), then one stage per segment.
    assert model._segments == [['conv1', 'bn1', 'act1', 'maxpool', 'layer1'], ['layer2'],
                               ['layer3'], ['layer4']]
    calls = []
    model.model.layer2.register_forward_pre_hook(lambda *_: calls.append(1))
    sum(f.mean() for f in model(torch.randn(1, 3, 64, 64))).backward()
    assert len(calls) == 2
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    assert len(calls) == 3  # no checkpointing without gradients


def test_selective_checkpoint_of_swin_blocks_is_exact():
    torch.manual_seed(0)
    stage = SwinResMLPStage(32, 2, 2, window_size=7, drop_path=0.3, selective_cp=False).train()
    x = torch.randn(2, 19, 23, 32)  # padded windows and a shifted block

    def run(selective):
        def fn(t):
            torch.manual_seed(5)  # same drop-path masks in both runs
            return (checkpoint(stage.forward_blocks, t, selective=True) if selective
                    else stage.forward_blocks(t))
        return fn

    calls = []
    stage.blocks[0].norm1.register_forward_pre_hook(lambda *_: calls.append(1))
    assert_steps_equal(step(run(True), stage, x), step(run(False), stage, x))
    assert len(calls) == 3  # once in the plain run, twice (forward + recompute) selectively
