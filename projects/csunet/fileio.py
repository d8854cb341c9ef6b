"""File output that never leaves a half-written file, and checkpoint I/O with errors naming the
file.

Every writer of csunet (converters, the synthetic data generator, the experiment config writer)
goes through this module:

* :func:`atomic_write` / :func:`write_bytes_atomic` / :func:`write_text_atomic`: write to a
  temporary file beside the destination, optionally verify it, then ``os.replace`` it into place.
  An interrupted or failed run leaves the destination as it was (old content or absent) and no
  temporary file. The result gets the usual file mode (``0o666 & ~umask``), not ``mkstemp``'s
  ``0o600``.
* :class:`AtomicDirectory`: the same for a whole output folder (built under a temporary name
  beside it, swapped into place by :meth:`AtomicDirectory.commit`).
* :func:`load_checkpoint_file` / :func:`save_checkpoint_atomic`: ``torch.load`` / ``torch.save``
  of converter checkpoints; failures raise :class:`ConversionError` naming the file.

mmengine's ``fileio`` (``dump``, ``put``) writes in place, so an interrupted run there leaves a
truncated file; hence this module.
"""
import os
import os.path as osp
import shutil
import tempfile
from typing import IO, Callable, Optional, Union

__all__ = [
    'ConversionError', 'atomic_write', 'write_bytes_atomic', 'write_text_atomic',
    'AtomicDirectory', 'load_checkpoint_file', 'save_checkpoint_atomic'
]

PathLike = Union[str, 'os.PathLike[str]']


class ConversionError(ValueError):
    """A checkpoint cannot be read or converted (missing file, unknown family or key layout)."""


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], object],
                 verify: Optional[Callable[[str], object]] = None) -> None:
    """Create or replace ``path`` atomically: ``write(f)`` into a temporary file beside it, then
    ``os.replace`` it into place.

    Args:
        path: Destination; missing parent folders are created.
        write: Called with the temporary file opened for binary writing.
        verify: Called with the temporary file's path after it is written and closed; if it
            raises, the temporary file is removed and ``path`` is left untouched.
    """
    path = os.fspath(path)
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual file mode
        if verify is not None:
            verify(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda f: f.write(data))


def write_text_atomic(path: PathLike, text: str, encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`), newlines unchanged."""
    write_bytes_atomic(path, text.encode(encoding))


class AtomicDirectory:
    """Build a folder under a temporary name beside ``path``; :meth:`commit` swaps it into place.

    ::

        with AtomicDirectory(out) as staged:
            ...write under staged.tmp...
            staged.commit()   # out is now the new folder (an old one is replaced whole)

    Leaving the ``with`` block without :meth:`commit` (an error, or an early return) removes the
    temporary folder and leaves ``path`` as it was. The committed folder gets the usual mode
    (``0o777 & ~umask``), not ``mkdtemp``'s ``0o700``.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = osp.abspath(os.fspath(path))
        self.tmp: Optional[str] = None
        self.committed = False

    def __enter__(self) -> 'AtomicDirectory':
        parent = osp.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(self.path)}.', suffix='.tmp',
                                    dir=parent)
        return self

    def commit(self) -> None:
        """Move the temporary folder to ``path``, replacing an existing folder whole."""
        os.chmod(self.tmp, 0o777 & ~_umask())
        if osp.exists(self.path):
            old = tempfile.mkdtemp(prefix=f'.{osp.basename(self.path)}.', suffix='.old',
                                   dir=osp.dirname(self.path))
            os.rmdir(old)
            os.replace(self.path, old)
            os.replace(self.tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.path)
        self.committed = True

    def __exit__(self, *exc) -> None:
        if not self.committed and self.tmp is not None and osp.isdir(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)


def load_checkpoint_file(path: str, trust: bool = False) -> dict:
    """``torch.load`` a local checkpoint on CPU, with errors that name the file.

    Args:
        path: Local file.
        trust: Allow arbitrary pickled objects (``weights_only=False``); only for files you trust.

    Raises:
        ConversionError: the file is missing or cannot be read as a checkpoint.
    """
    import torch
    if not osp.isfile(path):
        raise ConversionError(f'{path}: no such file')
    try:
        return torch.load(path, map_location='cpu', weights_only=not trust)
    except Exception as e:  # noqa: BLE001 - re-raised naming the file
        hint = '' if trust else (' If the file is a trusted full training checkpoint (pickled '
                                 'objects besides tensors), pass --trust-checkpoint.')
        raise ConversionError(f'{path}: cannot read as a PyTorch checkpoint '
                              f'({type(e).__name__}: {str(e)[:300]}).{hint}') from e


def save_checkpoint_atomic(obj: dict, path: str,
                           verify: Optional[Callable[[str], object]] = None) -> None:
    """``torch.save`` ``obj`` to ``path`` atomically (:func:`atomic_write`), so an interrupted or
    failed run never leaves a half-written ``path``.

    Args:
        obj: What to save.
        path: Destination.
        verify: Called with the temporary file before it is moved into place (e.g. load it into
            the target model); if it raises, ``path`` is left untouched.
    """
    import torch
    atomic_write(path, lambda f: torch.save(obj, f), verify=verify)
