"""A pool of unlabelled micrograph tiles for self-supervised pretraining, with the test images of
the experiments it will serve excluded by pixel content.

``tools/dataset_converters/unlabelled.py`` is the command line. Rules:

* **Reading**: TIFF (8/16-bit, grey or RGB), PNG, JPEG of any size, as ``tools/analyze.py``
  reads micrographs (:func:`csunet.analysis.io.read_micrograph`: 16-bit scaled over the dtype's
  full range, as the NASA converter did), converted to 8-bit grey.
* **Identity by pixel content**: two files are the same image when their 8-bit grey pixels are
  equal (:func:`content_key`: sha256 over shape and bytes), whatever their names or formats. NASA's
  folders repeat images under several names (EBC-1's test images are EBC-3 training images), so
  an excluded test image is recognised in any folder, and a pool image present twice is taken
  once.
* **Data bar**: an instrument bar at the bottom (:func:`csunet.analysis.detect_data_bar`) is cut
  off before tiling (``keep_data_bar`` turns this off).
* **Tiling**: ``tile`` x ``tile`` tiles spread evenly over each side (the first at 0, the last
  ending at the border: :func:`csunet.analysis.inference.window_starts` with no overlap asked);
  a side shorter than the tile is padded by mirror reflection (bottom/right), so the pixel scale
  is kept.
* **Output** (written to a temporary folder and renamed, so a failed run leaves nothing):
  ``OUT/images/<stem>_y<Y>_x<X>.png`` tiles, ``OUT/meta/pool.txt`` (one tile path per line,
  relative to OUT), ``OUT/meta/sources.txt`` (``<source> <tiles> <bar rows> <content key>``),
  ``OUT/meta/excluded.txt`` (``<source> <reason>``: a test image's content, or a repeat).
* **Held-out images** (``val_fraction``, default 0.1): whole source images, evenly spaced in
  sorted order (at least one when two or more are pooled), go to ``OUT/meta/val.txt``, the
  others to ``OUT/meta/train.txt``: the self-supervised configs train on ``train.txt`` and log
  their loss / embedding spread on ``val.txt``, so overfitting a small pool shows. Tiles of one
  image never straddle the split. ``pool.txt`` lists both.
"""
import hashlib
import os
import os.path as osp
import re
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np


class PoolError(ValueError):
    """Bad input for the pool (named in the message)."""


def content_key(grey: np.ndarray) -> str:
    """sha256 of an 8-bit image's shape and pixels: equal for the same image under any name."""
    h = hashlib.sha256(str(grey.shape).encode())
    h.update(np.ascontiguousarray(grey).tobytes())
    return h.hexdigest()


def read_grey(path: str) -> np.ndarray:
    """``(H, W)`` uint8 grey micrograph; :class:`csunet.analysis.io.InputError` naming why not."""
    import cv2

    from ..analysis.io import read_micrograph
    img = read_micrograph(path)
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def find_images(paths: Iterable[str]) -> List[str]:
    """Image files (the types ``tools/analyze.py`` reads) among ``paths`` (files, or folders
    searched recursively), sorted, no repeats; :class:`PoolError` for a path that does not
    exist."""
    from ..analysis.io import IMAGE_EXTENSIONS
    found = []
    for path in paths:
        if osp.isfile(path):
            found.append(osp.abspath(path))
        elif osp.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [osp.abspath(osp.join(root, f)) for f in sorted(files)
                          if f.lower().endswith(IMAGE_EXTENSIONS)]
        else:
            raise PoolError(f'{path}: no such file or folder')
    return sorted(set(found))


def tiles_of(grey: np.ndarray, tile: int) -> List[Tuple[int, int, np.ndarray]]:
    """``(y, x, tile)`` of an image, ``tile`` x ``tile`` each (see the module's rules)."""
    from ..analysis.inference import window_starts
    h, w = grey.shape
    if h < tile or w < tile:
        grey = np.pad(grey, ((0, max(0, tile - h)), (0, max(0, tile - w))), mode='symmetric')
        h, w = grey.shape
    return [(y, x, grey[y:y + tile, x:x + tile]) for y in window_starts(h, tile, 0)
            for x in window_starts(w, tile, 0)]


def excluded_keys(paths: Iterable[str]) -> Dict[str, str]:
    """Content key -> the first file of ``paths`` (files or folders) that has it; a file that
    cannot be read is an error (an exclusion must not be skipped silently)."""
    from ..analysis.io import InputError
    keys: Dict[str, str] = {}
    for path in find_images(paths):
        try:
            keys.setdefault(content_key(read_grey(path)), path)
        except InputError as err:
            raise PoolError(f'excluded image {path} cannot be read: {err}') from err
    return keys


def _stem(path: str, roots: Sequence[str]) -> str:
    """A file name for the source's tiles: its path below the input it was found in."""
    root = next((r for r in roots if path.startswith(r + os.sep)), osp.dirname(path))
    rel = osp.splitext(osp.relpath(path, root))[0]
    return re.sub(r'[^A-Za-z0-9._-]+', '_', rel)


def held_out_indices(n: int, fraction: float) -> List[int]:
    """Indices of the held-out items among ``n``: ``round(n * fraction)`` of them (at least one
    when ``fraction > 0`` and ``n >= 2``, never all), evenly spaced."""
    if not 0 <= fraction < 1:
        raise PoolError(f'val_fraction must be in [0, 1), got {fraction}')
    k = min(n - 1, max(1 if fraction > 0 else 0, int(round(n * fraction))))
    if k <= 0:
        return []
    return sorted({int(i) for i in np.linspace(0, n - 1, k + 2)[1:-1].round()})


def build_pool(sources: Sequence[str], out: str, exclude: Sequence[str] = (), tile: int = 512,
               keep_data_bar: bool = False, overwrite: bool = False,
               progress: Optional[Callable[[], None]] = None, val_fraction: float = 0.1,
               files: Optional[Sequence[str]] = None) -> dict:
    """Write the pool of ``sources`` (files or folders) to ``out`` (see the module's rules).
    ``files``: ``find_images(sources)`` when the caller has it already (to size a progress bar).

    Returns counts: ``sources`` (files found), ``used``, ``excluded`` (test content),
    ``repeats``, ``unreadable`` (``[(path, reason)]``), ``tiles``, ``val_tiles``.
    """
    import cv2

    from ..analysis.data_bar import detect_data_bar
    from ..analysis.io import InputError
    from ..fileio import AtomicDirectory
    if tile < 16:
        raise PoolError(f'tile must be at least 16 px, got {tile}')
    held_out_indices(2, val_fraction)  # validates before any work
    if osp.exists(out) and os.listdir(out) and not overwrite:
        raise PoolError(f'{out} exists and is not empty (pass overwrite to replace it)')
    files = find_images(sources) if files is None else list(files)
    if not files:
        raise PoolError(f'no image files in {list(sources)}')
    banned = excluded_keys(exclude)
    roots = sorted({osp.abspath(p) for p in sources if osp.isdir(p)}, key=len, reverse=True)
    seen: Dict[str, str] = {}
    pool, source_lines, excluded_lines, unreadable = [], [], [], []
    tiles_by_source: List[List[str]] = []
    with AtomicDirectory(out) as staged:
        os.makedirs(osp.join(staged.tmp, 'images'))
        os.makedirs(osp.join(staged.tmp, 'meta'))
        for path in files:
            try:
                grey = read_grey(path)
            except InputError as err:
                unreadable.append((path, str(err)))
                continue
            finally:
                if progress is not None:
                    progress()
            key = content_key(grey)
            if key in banned:
                excluded_lines.append(f'{path} identical to excluded {banned[key]}')
                continue
            if key in seen:
                excluded_lines.append(f'{path} repeats {seen[key]}')
                continue
            seen[key] = path
            bar = 0 if keep_data_bar else detect_data_bar(grey)
            field = grey[:grey.shape[0] - bar]
            stem = _stem(path, roots)
            tiles = tiles_of(field, tile)
            tiles_by_source.append([])
            for y, x, t in tiles:
                rel = f'images/{stem}_y{y}_x{x}.png'
                if not cv2.imwrite(osp.join(staged.tmp, rel), t):
                    raise OSError(f'could not write {rel}')
                pool.append(rel)
                tiles_by_source[-1].append(rel)
            source_lines.append(f'{path} {len(tiles)} {bar} {key}')
        if not pool:
            raise PoolError('no image left for the pool (all excluded, repeated or unreadable)')
        held = set(held_out_indices(len(tiles_by_source), val_fraction))
        val = [t for i, ts in enumerate(tiles_by_source) if i in held for t in ts]
        train = [t for i, ts in enumerate(tiles_by_source) if i not in held for t in ts]
        for name, lines in (('pool', pool), ('train', train), ('val', val),
                            ('sources', source_lines), ('excluded', excluded_lines)):
            with open(osp.join(staged.tmp, 'meta', f'{name}.txt'), 'w') as f:
                f.write(''.join(line + '\n' for line in lines))
        staged.commit()
    return dict(sources=len(files), used=len(source_lines),
                excluded=sum(' identical to excluded ' in line for line in excluded_lines),
                repeats=sum(' repeats ' in line for line in excluded_lines),
                unreadable=unreadable, tiles=len(pool), val_tiles=len(val))
