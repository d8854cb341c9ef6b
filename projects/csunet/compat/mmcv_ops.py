"""Let mmsegmentation 1.2.2 import on the pure-Python ``mmcv-lite``.

mmseg imports ``mmcv.ops`` eagerly (``point_sample`` in ``mmseg/utils/mask_classification.py``,
``models/utils/point_sample.py`` and ``decode_heads/san_head.py``; ``sigmoid_focal_loss`` in
``losses/focal_loss.py``; guarded imports of ``CrissCrossAttention`` and ``PSAMask``), and
``mmcv-lite`` ships the Python files of ``mmcv.ops`` without the compiled ``mmcv._ext`` they load,
so ``import mmseg.models`` fails. CS-UNet needs no compiled op.

:func:`install` registers a stand-in ``mmcv.ops`` module when, and only when, ``mmcv._ext`` is
absent:

* ops that are plain PyTorch in mmcv (``point_sample`` and the rest of
  ``mmcv/ops/point_sample.py``) are mmcv's own code, loaded from the installed file;
* every other name resolves to a placeholder that raises :class:`MMCVOpsUnavailableError`, naming
  the op and how to get it, as soon as it is called or instantiated.

With full (compiled) mmcv installed, :func:`install` does nothing.
"""
import importlib.util
import os.path as osp
import sys
import types
from typing import Any, Callable, NoReturn

__all__ = ['MMCVOpsUnavailableError', 'has_compiled_mmcv_ops', 'install', 'is_installed']

#: Submodules of ``mmcv/ops`` that are pure PyTorch and safe to load without ``mmcv._ext``.
PURE_PYTHON_SUBMODULES = ('point_sample', )

_SHIM_FLAG = '__csunet_mmcv_ops_shim__'


class MMCVOpsUnavailableError(RuntimeError):
    """A compiled mmcv op was used while only ``mmcv-lite`` is installed."""


def has_compiled_mmcv_ops() -> bool:
    """Whether the compiled extension ``mmcv._ext`` (full mmcv) is importable."""
    if importlib.util.find_spec('mmcv') is None:
        return False
    return importlib.util.find_spec('mmcv._ext') is not None


def is_installed() -> bool:
    """Whether the stand-in ``mmcv.ops`` is the one in ``sys.modules``."""
    return getattr(sys.modules.get('mmcv.ops'), _SHIM_FLAG, False)


def _unavailable(name: str) -> Callable[..., NoReturn]:
    message = (
        f'mmcv.ops.{name} is a compiled mmcv op, but the installed mmcv is mmcv-lite (no '
        f'mmcv._ext). CS-UNet does not need it; if your config does, build full mmcv as the '
        f'csunet docs describe (docs/install.md, "Full mmcv (optional)").')

    class _UnavailableOp:
        """Placeholder for a compiled op: importing it works, using it raises."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise MMCVOpsUnavailableError(message)

        def __init_subclass__(cls, **kwargs: Any) -> None:
            raise MMCVOpsUnavailableError(message)

    _UnavailableOp.__name__ = _UnavailableOp.__qualname__ = name
    _UnavailableOp.__module__ = 'mmcv.ops'
    return _UnavailableOp  # type: ignore[return-value]


def install() -> bool:
    """Register the stand-in ``mmcv.ops`` if compiled mmcv ops are missing.

    Must run before ``mmseg.models`` (or anything importing ``mmcv.ops``) is imported; importing
    :mod:`csunet` does it. Idempotent.

    Returns:
        bool: True if the stand-in is active after the call.
    """
    if is_installed():
        return True
    if importlib.util.find_spec('mmcv') is None or has_compiled_mmcv_ops():
        return False
    if 'mmcv.ops' in sys.modules:
        # A real mmcv.ops was imported already; it only gets here without _ext when that import
        # failed half-way, so replace the broken entry.
        del sys.modules['mmcv.ops']

    import mmcv
    ops_dir = osp.join(osp.dirname(mmcv.__file__), 'ops')
    shim = types.ModuleType('mmcv.ops', __doc__)
    # The real package directory as __path__ lets ``import mmcv.ops.point_sample`` find mmcv's
    # own file without executing mmcv/ops/__init__.py (which loads mmcv._ext).
    shim.__path__ = [ops_dir]  # type: ignore[attr-defined]
    shim.__package__ = 'mmcv.ops'
    setattr(shim, _SHIM_FLAG, True)
    placeholders: dict = {}

    def __getattr__(name: str) -> Any:  # PEP 562 module attribute hook
        if name.startswith('__'):
            raise AttributeError(name)
        if name not in placeholders:
            placeholders[name] = _unavailable(name)
        return placeholders[name]

    shim.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules['mmcv.ops'] = shim
    mmcv.ops = shim  # type: ignore[attr-defined]

    for sub in PURE_PYTHON_SUBMODULES:
        module = importlib.import_module(f'mmcv.ops.{sub}')
        for attr in dir(module):
            if not attr.startswith('_'):
                setattr(shim, attr, getattr(module, attr))
    return True
