"""Let mmengine 0.10.7 train distributed on machines without CUDA (``gloo`` on CPU).

``bash tools/dist_train.sh CONFIG 2`` (torchrun, ``--launcher pytorch``) fails on a CPU-only
machine in two places, both of which assume one CUDA device per process:

1. ``mmengine.dist.utils._init_dist_pytorch`` calls ``torch.cuda.set_device(LOCAL_RANK)`` before
   ``init_process_group``, which raises without CUDA; and our runtime config
   (``configs/_base_/default_runtime.py``) asks for ``nccl``, a CUDA-only backend.
2. ``Runner.wrap_model`` wraps the model in ``MMDistributedDataParallel`` with
   ``device_ids=[LOCAL_RANK]``; torch's ``DistributedDataParallel`` refuses ``device_ids`` for a
   CPU module (a CPU module takes ``device_ids=None``).
3. A model with ``SyncBatchNorm`` (mmpretrain's SimSiam / MoCo necks default to ``SyncBN``;
   mmengine reverts it only when *not* distributed) fails in ``DistributedDataParallel``:
   "SyncBatchNorm layers only work with GPU modules".

Why these two places, and not the config or ``init_dist``:

* ``init_dist`` only dispatches by launcher; the CUDA call and ``init_process_group`` live in
  ``_init_dist_pytorch``, which ``init_dist`` looks up in its module's globals at call time. So
  replacing that module attribute reaches every caller (``Runner.setup_env``, tools, user code)
  and touches nothing else. The ``slurm`` and ``mpi`` launchers are left as they are (their
  CPU paths need a cluster to test).
* The backend is chosen when the process group is created, not in the config: a config that says
  ``gloo`` would also make GPU runs use ``gloo``. Here ``nccl`` becomes ``gloo`` only when CUDA is
  absent in the process that initialises (``nccl`` cannot work there at all); any other backend
  asked for is kept.
* ``device_ids`` is dropped in ``MMDistributedDataParallel.__init__``, where every wrapping path
  of ``Runner.wrap_model`` (default and ``model_wrapper_cfg``) ends, and only for a module whose
  parameters are all on the CPU.
* In the same place and on the same condition, ``SyncBatchNorm`` layers become ``BatchNorm``
  (mmengine's ``revert_sync_batchnorm``, what it does for non-distributed runs), with a warning:
  each process then normalises with its own batch statistics. The optimizer is built after the
  wrap, so it sees the new layers' parameters.

Both replacements decide at call time and hand over to mmengine's original unchanged when CUDA
(or another accelerator mmengine knows: MLU, NPU, MUSA) is available, so GPU training behaves
exactly as without this module.
"""
import functools
import logging
import os
from typing import Any, Callable

__all__ = ['install', 'is_installed', 'accelerator_available']

_MARK = '_csunet_cpu_dist'


def accelerator_available() -> bool:
    """Whether mmengine would use a device of its own (CUDA, MLU, NPU, MUSA) for this process."""
    from mmengine.device import (is_cuda_available, is_mlu_available, is_musa_available,
                                 is_npu_available)
    return (is_cuda_available() or is_mlu_available() or is_npu_available()
            or is_musa_available())


def _log(message: str, level: int = logging.INFO) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current', level=level)


def _cpu_init_dist_pytorch(original: Callable) -> Callable:

    @functools.wraps(original)
    def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if accelerator_available() or init_backend != 'torch':
            # GPUs (or DeepSpeed / ColossalAI, which need them): mmengine's own path.
            return original(backend, init_backend=init_backend, **kwargs)
        import torch.distributed as torch_dist
        if backend == 'nccl':
            _log(f'csunet.compat.cpu_dist: no CUDA on rank {os.environ.get("RANK", "?")}; '
                 'initialising torch.distributed with backend "gloo" instead of "nccl"',
                 logging.WARNING)
            backend = 'gloo'
        # What mmengine does minus torch.cuda.set_device (there is no device to pick); torchrun
        # provides RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in the environment.
        torch_dist.init_process_group(backend=backend, **kwargs)

    setattr(_init_dist_pytorch, _MARK, True)
    return _init_dist_pytorch


def _without_sync_batchnorm(module):
    """``module`` with every (torch or mmcv) ``SyncBatchNorm`` made a ``BatchNorm``."""
    from mmengine.model import revert_sync_batchnorm
    names = [n for n, m in module.named_modules() if 'SyncBatchNorm' in type(m).__name__]
    if not names:
        return module
    _log(f'no CUDA: {len(names)} SyncBatchNorm layers (e.g. {names[0]}) become BatchNorm, '
         'normalising with each process\'s own batch', logging.WARNING)
    return revert_sync_batchnorm(module)


def _cpu_ddp_init(original: Callable) -> Callable:

    @functools.wraps(original)
    def __init__(self, module, *args: Any, **kwargs: Any) -> None:
        if not accelerator_available() and all(p.device.type == 'cpu'
                                               for p in module.parameters()):
            if kwargs.get('device_ids') is not None:
                # DDP replicates a CPU module with device_ids=None; a GPU index is an error there.
                kwargs['device_ids'] = None
                kwargs.pop('output_device', None)
            module = _without_sync_batchnorm(module)
        original(self, module, *args, **kwargs)

    setattr(__init__, _MARK, True)
    return __init__


def is_installed() -> bool:
    """Whether :func:`install` has patched mmengine in this process."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    return (getattr(dist_utils._init_dist_pytorch, _MARK, False)
            and getattr(MMDistributedDataParallel.__init__, _MARK, False))


def install() -> None:
    """Patch ``_init_dist_pytorch`` and ``MMDistributedDataParallel.__init__``. Idempotent.

    The patches are inert on machines with CUDA (see the module docstring).
    """
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    if not getattr(dist_utils._init_dist_pytorch, _MARK, False):
        dist_utils._init_dist_pytorch = _cpu_init_dist_pytorch(dist_utils._init_dist_pytorch)
    if not getattr(MMDistributedDataParallel.__init__, _MARK, False):
        MMDistributedDataParallel.__init__ = _cpu_ddp_init(MMDistributedDataParallel.__init__)
    # Nothing else on mmengine's training path touches CUDA once the backend is gloo:
    # mmengine.dist.get_comm_device returns the CPU for it, and get_device() says 'cpu'.
