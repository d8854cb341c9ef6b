"""Activation checkpointing that keeps the math: full or selective recomputation, BatchNorm-safe.

It runs ``torch.utils.checkpoint`` non-reentrantly with the RNG state replayed, so outputs,
gradients, dropout and drop-path masks are those of the plain forward.
"""
import contextlib
from typing import Callable, Iterator, Sequence

import torch
import torch.utils.checkpoint as cp
from torch import nn
from torch.utils.checkpoint import CheckpointPolicy, create_selective_checkpoint_contexts

aten = torch.ops.aten

#: Ops whose outputs selective checkpointing keeps: the matrix products (linear layers, attention
#: logits and attention-weighted values) and the fused attention kernels. Everything else in a
#: Swin block (LayerNorm, GELU, softmax, residual additions, dropout, window partition / roll /
#: pad copies) is recomputed from them in backward: elementwise and layout work costs a few per
#: cent of the time but most of the saved bytes.
SAVED_OPS = frozenset(
    getattr(aten, name).default for name in (
        'mm', 'addmm', 'bmm', 'baddbmm',
        '_scaled_dot_product_flash_attention_for_cpu', '_scaled_dot_product_flash_attention',
        '_scaled_dot_product_efficient_attention', '_scaled_dot_product_cudnn_attention')
    if hasattr(aten, name))


def _save_products(ctx, op, *args, **kwargs) -> CheckpointPolicy:
    return CheckpointPolicy.MUST_SAVE if op in SAVED_OPS else CheckpointPolicy.PREFER_RECOMPUTE


@contextlib.contextmanager
def frozen_running_stats(*modules: nn.Module) -> Iterator[None]:
    """Batch normalisation layers in ``modules`` normalise as in training (batch statistics) but
    leave their running statistics and ``num_batches_tracked`` as they were."""
    saved = []
    for m in (m for module in modules for m in module.modules()):
        if isinstance(m, nn.modules.batchnorm._NormBase) and m.training and m.track_running_stats:
            saved.append((m, m.momentum, None if m.num_batches_tracked is None
                          else m.num_batches_tracked.clone()))
            m.momentum = 0.  # running = (1 - 0) * running + 0 * batch: unchanged
    try:
        yield
    finally:
        for m, momentum, count in saved:
            m.momentum = momentum
            if count is not None:
                m.num_batches_tracked.copy_(count)


def checkpoint(fn: Callable, *args, selective: bool = False,
               batchnorm_modules: Sequence[nn.Module] = ()):
    """``fn(*args)`` with activation checkpointing (non-reentrant, RNG state replayed).

    Args:
        fn: The computation; its outputs, gradients and random masks are those of ``fn(*args)``.
        selective: Keep the outputs of :data:`SAVED_OPS` for backward and recompute the rest
            there (selective activation checkpointing); otherwise keep only ``args`` and
            recompute everything.
        batchnorm_modules: Modules run by ``fn`` whose BatchNorms must not see the
            recomputation. A plain checkpoint runs them twice per step, so their running
            statistics would move twice (mmcv's ResNet ``with_cp`` does); here the recomputation
            normalises with the same batch statistics but leaves the running ones as the forward
            left them (:func:`frozen_running_stats`).
    """
    def context_fn():
        if selective:
            forward, recompute = create_selective_checkpoint_contexts(_save_products)
        else:
            forward, recompute = contextlib.nullcontext(), contextlib.nullcontext()

        @contextlib.contextmanager
        def recomputation() -> Iterator[None]:
            # The statistics are saved and restored outside the selective-checkpoint mode,
            # whose recomputation must replay exactly the forward's ops.
            with frozen_running_stats(*batchnorm_modules), recompute:
                yield

        return forward, recomputation()

    return cp.checkpoint(fn, *args, use_reentrant=False, context_fn=context_fn)
