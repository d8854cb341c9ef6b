"""Let mmengine 0.10.7 load its own checkpoints under torch's ``weights_only=True`` default.

Since torch 2.6, ``torch.load`` unpickles only allow-listed types. mmengine's checkpoints hold, in
``meta`` and ``message_hub``, numpy arrays, scalars and dtypes and mmengine's ``HistoryBuffer``,
so ``--resume``, ``load_from`` and ``tools/test.py CKPT`` fail. Safe loading stays on:
:func:`allow_mmengine_checkpoint_types` adds exactly these types to torch's allow-list
(``torch.serialization.add_safe_globals``), nothing else.

One more entry is needed: ``HistoryBuffer`` pickles its statistic methods (``HistoryBuffer.min``
...) by reference, which pickle writes as ``getattr(HistoryBuffer, 'min')``. Allowing the builtin
``getattr`` would let a crafted file fetch arbitrary attributes, so the name ``builtins.getattr`` is
bound instead to :func:`history_buffer_getattr`, which resolves only statistic methods registered
on ``HistoryBuffer`` and refuses everything else.
"""
from typing import Any, List

import numpy as np
import torch

__all__ = [
    'allow_mmengine_checkpoint_types', 'history_buffer_getattr', 'mmengine_checkpoint_safe_globals'
]


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s registered statistic methods."""
    from mmengine.logging.history_buffer import HistoryBuffer

    if obj is HistoryBuffer and (name in HistoryBuffer._statistics_methods
                                 or name in ('min', 'max', 'current', 'mean')):
        return getattr(obj, name)
    raise RuntimeError(f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer '
                       f'statistic methods are allowed under weights_only loading')


def mmengine_checkpoint_safe_globals() -> List[object]:
    """The types an mmengine 0.10.x checkpoint pickles besides tensors and builtins."""
    from mmengine.logging.history_buffer import HistoryBuffer

    # numpy moved ``numpy.core`` to ``numpy._core`` in 2.0; pickles name whichever wrote them.
    multiarray = getattr(np, '_core', np.core).multiarray  # type: ignore[attr-defined]
    types: List[object] = [
        HistoryBuffer,
        (history_buffer_getattr, 'builtins.getattr'),
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
