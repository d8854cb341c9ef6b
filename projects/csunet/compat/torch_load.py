"""Let mmengine 0.10.7 load its own checkpoints under torch's ``weights_only=True`` default.

Since torch 2.6, ``torch.load`` unpickles only allow-listed types. mmengine's checkpoints hold, in
``meta`` and ``message_hub``, numpy arrays, scalars and dtypes and mmengine's ``HistoryBuffer``,
so ``--resume``, ``load_from`` and ``tools/test.py CKPT`` fail. Safe loading stays on:
:func:`allow_mmengine_checkpoint_types` adds exactly these types to torch's allow-list
(``torch.serialization.add_safe_globals``), nothing else.
"""
from typing import List

import numpy as np
import torch

__all__ = ['mmengine_checkpoint_safe_globals', 'allow_mmengine_checkpoint_types']


def mmengine_checkpoint_safe_globals() -> List[object]:
    """The types an mmengine 0.10.x checkpoint pickles besides tensors and builtins."""
    from mmengine.logging.history_buffer import HistoryBuffer

    # numpy moved ``numpy.core`` to ``numpy._core`` in 2.0; pickles name whichever wrote them.
    multiarray = getattr(np, '_core', np.core).multiarray  # type: ignore[attr-defined]
    types: List[object] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
    ]
    # numpy >= 1.25 pickles dtypes by their class (``numpy.dtypes.Float64DType``, ...).
    dtypes_module = getattr(np, 'dtypes', None)
    if dtypes_module is not None:
        types += [
            getattr(dtypes_module, name) for name in dir(dtypes_module)
            if name.endswith('DType')
        ]
    return types


def allow_mmengine_checkpoint_types() -> None:
    """Allow-list :func:`mmengine_checkpoint_safe_globals` for ``torch.load``. Idempotent."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 has no weights_only default to satisfy
        return
    add_safe_globals(mmengine_checkpoint_safe_globals())
