#!/usr/bin/env python
"""Build a MicroLite-style classification set from raw micrographs (one folder per class).

    python tools/dataset_converters/microlite.py SRC -o OUT [--tile 512] [--seed 0] \
        [--val 0.1 --test 0.1] [--small pad|resize] [--skip-bad] [--overwrite]

Input: ``SRC/<class>/**/<image>`` (png, jpg, tif, bmp, ...); every sub-folder of SRC holding at
least one readable image is a class (folder name = class name). Images are read as 8-bit grey.

Output (read by ``csunet.datasets.MicroLiteDataset``)::

    OUT/meta/classes.txt                  class names, line i = label i (sorted folder names)
    OUT/meta/{train,val,test}.txt         '<split>/<class>/<tile>.png <label>' per line
    OUT/{train,val,test}/<class>/<stem>_y<Y>_x<X>.png   tile at row Y, column X of the cropped
                                          image (stem = source path below the class folder)
    OUT/meta/sources.txt                  '<split> <class> <source path> <tiles> <bar rows>'

Rules (all of them deterministic):

* **Data bar** (:func:`detect_data_bar`, shared with ``tools/analyze.py``; the rule is in
  ``csunet/analysis/data_bar.py``): a band of saturated rows at the bottom, distinct from the
  image above it, is cut off before tiling; otherwise nothing is cropped.
* **Tiling** (:func:`tile_starts`). Along a side of length ``L >= T`` there are
  ``n = ceil(L / T)`` tiles starting at ``round(i * (L - T) / (n - 1))``: the first starts at 0,
  the last ends at L, neighbours overlap evenly when L is not a multiple of T (no overlap when it
  is). A side shorter than T: ``--small pad`` (default) pads it to T by mirror reflection
  (``numpy.pad(mode='symmetric')``, bottom/right only) so the pixel scale - which carries the
  class in micrographs - is kept; ``--small resize`` upscales the image (aspect ratio kept,
  bicubic) so its short side is T, then tiles.
* **Split** (:func:`split_sources`) by *source image*, never by tile, so tiles of one micrograph
  never land in two splits. Per class, the sources (sorted by path) are shuffled with
  ``numpy.random.default_rng([seed, crc32(class name)])`` - independent of the other classes and
  of file-system order - and cut into ``n_val = round(val * n)``, ``n_test = round(test * n)``,
  the rest train; a class with at least 3 images gets at least one val / test image when the
  fraction is non-zero; train always keeps at least one.
* **Unreadable files** are named on stderr. Without ``--skip-bad`` the run stops with exit status
  1 and writes nothing; with it they are left out (exit 0).
* **Atomic output**: everything is written to a temporary folder beside OUT and renamed to OUT at
  the end; an existing non-empty OUT is refused unless ``--overwrite`` (then replaced whole).
"""
import argparse
import math
import os
import os.path as osp
import re
import shutil
import sys
import zlib
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from csunet.analysis.data_bar import detect_data_bar
from csunet.fileio import AtomicDirectory

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.pgm', '.ppm')
SPLITS = ('train', 'val', 'test')


def tile_starts(length: int, tile: int) -> List[int]:
    """Evenly spaced tile offsets covering ``[0, length)``; ``length >= tile``."""
    if length < tile:
        raise ValueError(f'length {length} < tile {tile}')
    n = math.ceil(length / tile)
    if n == 1:
        return [0]
    return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]


def fit_small(img: np.ndarray, tile: int, mode: str) -> np.ndarray:
    """Bring both sides to at least ``tile`` (``'pad'``: mirror, ``'resize'``: upscale)."""
    h, w = img.shape[:2]
    if h >= tile and w >= tile:
        return img
    if mode == 'pad':
        return np.pad(img, ((0, max(0, tile - h)), (0, max(0, tile - w))), mode='symmetric')
    if mode == 'resize':
        scale = tile / min(h, w)
        size = (max(tile, int(round(w * scale))), max(tile, int(round(h * scale))))
        return cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
    raise ValueError(f'small={mode!r}: use pad or resize')


def tile_image(img: np.ndarray, tile: int,
               small: str = 'pad') -> List[Tuple[int, int, np.ndarray]]:
    """``(y, x, tile)`` for every tile of ``img`` (after :func:`fit_small`)."""
    img = fit_small(img, tile, small)
    h, w = img.shape[:2]
    return [(y, x, img[y:y + tile, x:x + tile]) for y in tile_starts(h, tile)
            for x in tile_starts(w, tile)]


def split_sources(sources: Sequence[str], class_name: str, seed: int, val: float,
                  test: float) -> Dict[str, List[str]]:
    """Assign the source images of one class to train/val/test (see module docstring)."""
    srcs = sorted(sources)
    n = len(srcs)
    rng = np.random.default_rng([seed, zlib.crc32(class_name.encode('utf-8'))])
    order = [srcs[i] for i in rng.permutation(n)]

    def count(frac):
        k = int(round(frac * n))
        return max(k, 1) if frac > 0 and n >= 3 else k

    n_val, n_test = count(val), count(test)
    while n_val + n_test > n - 1 and (n_val or n_test):  # keep one train image
        if n_test >= n_val and n_test:
            n_test -= 1
        else:
            n_val -= 1
    return {'val': sorted(order[:n_val]), 'test': sorted(order[n_val:n_val + n_test]),
            'train': sorted(order[n_val + n_test:])}


def find_sources(src: str) -> 'OrderedDict[str, List[str]]':
    """``{class: [image paths relative to SRC/<class>]}`` for every class folder (sorted)."""
    out = OrderedDict()
    for name in sorted(e.name for e in os.scandir(src) if e.is_dir()):
        files = []
        for dirpath, dirnames, filenames in os.walk(osp.join(src, name)):
            dirnames.sort()
            for fn in filenames:
                if fn.lower().endswith(IMG_EXTENSIONS) and not fn.startswith('.'):
                    files.append(osp.relpath(osp.join(dirpath, fn), osp.join(src, name)))
        if files:
            out[name] = sorted(files)
    return out


def safe_stem(rel_path: str) -> str:
    stem = osp.splitext(rel_path)[0].replace(os.sep, '__')
    return re.sub(r'[^A-Za-z0-9._-]', '_', stem)


def read_grey(path: str) -> Optional[np.ndarray]:
    try:
        data = np.fromfile(path, dtype=np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    except (OSError, cv2.error):
        return None
    if img is None or img.ndim != 2 or img.size == 0:
        return None
    return img


def _write_png(path: str, img: np.ndarray) -> None:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise OSError(f'could not encode {path}')
    buf.tofile(path)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('src', help='folder with one sub-folder of raw micrographs per class')
    p.add_argument('-o', '--out', required=True, help='output folder')
    p.add_argument('--tile', type=int, default=512, help='tile side (default 512)')
    p.add_argument('--seed', type=int, default=0, help='split seed (default 0)')
    p.add_argument('--val', type=float, default=0.1, help='val fraction of source images')
    p.add_argument('--test', type=float, default=0.1, help='test fraction of source images')
    p.add_argument('--small', choices=('pad', 'resize'), default='pad',
                   help='images with a side < tile: mirror-pad (default) or upscale')
    p.add_argument('--no-strip-bar', action='store_true', help='keep data bars')
    p.add_argument('--skip-bad', action='store_true',
                   help='leave unreadable files out instead of failing')
    p.add_argument('--overwrite', action='store_true', help='replace an existing OUT')
    args = p.parse_args(argv)
    if args.tile < 1:
        p.error('--tile must be positive')
    if not (0 <= args.val < 1 and 0 <= args.test < 1 and args.val + args.test < 1):
        p.error('--val and --test must be in [0, 1) with val + test < 1')
    return args


def convert(args) -> int:
    src, out = osp.abspath(args.src), osp.abspath(args.out)
    if not osp.isdir(src):
        print(f'microlite: error: {src} is not a folder', file=sys.stderr)
        return 1
    if osp.isdir(out) and os.listdir(out) and not args.overwrite:
        print(f'microlite: error: {out} exists and is not empty (use --overwrite)',
              file=sys.stderr)
        return 1
    sources = find_sources(src)
    if not sources:
        print(f'microlite: error: no class folders with images under {src}', file=sys.stderr)
        return 1
    with AtomicDirectory(out) as staged:
        return _convert_into(args, src, staged, sources)


def _convert_into(args, src, staged: AtomicDirectory, sources) -> int:
    out, tmp = staged.path, staged.tmp
    staging = osp.join(tmp, '_staging')
    bad: List[str] = []
    tiles: Dict[Tuple[str, str], List[str]] = {}  # (class, source) -> staged tile names
    bars: Dict[Tuple[str, str], int] = {}
    for cls, files in sources.items():
        for rel in files:
            path = osp.join(src, cls, rel)
            img = read_grey(path)
            if img is None:
                bad.append(path)
                continue
            bar = 0 if args.no_strip_bar else detect_data_bar(img)
            if bar:
                img = img[:img.shape[0] - bar]
            stem = safe_stem(rel)
            folder = osp.join(staging, cls)
            os.makedirs(folder, exist_ok=True)
            names = []
            for y, x, t in tile_image(img, args.tile, args.small):
                name = f'{stem}_y{y}_x{x}.png'
                _write_png(osp.join(folder, name), np.ascontiguousarray(t))
                names.append(name)
            tiles[(cls, rel)] = names
            bars[(cls, rel)] = bar
    for path in bad:
        print(f'microlite: unreadable image: {path}', file=sys.stderr)
    if bad and not args.skip_bad:
        print(f'microlite: error: {len(bad)} unreadable file(s); nothing written '
              f'(use --skip-bad to leave them out)', file=sys.stderr)
        return 1
    classes = [c for c in sources if any(k[0] == c for k in tiles)]
    if not classes:
        print('microlite: error: no readable images', file=sys.stderr)
        return 1
    meta = osp.join(tmp, 'meta')
    os.makedirs(meta)
    lines = {s: [] for s in SPLITS}
    source_lines = []
    table = []
    for label, cls in enumerate(classes):
        readable = [rel for (c, rel) in tiles if c == cls]
        parts = split_sources(readable, cls, args.seed, args.val, args.test)
        row = [cls]
        for split in SPLITS:
            n_tiles = 0
            folder = osp.join(tmp, split, cls)
            for rel in parts[split]:
                os.makedirs(folder, exist_ok=True)
                for name in tiles[(cls, rel)]:
                    os.replace(osp.join(staging, cls, name), osp.join(folder, name))
                    lines[split].append(f'{split}/{cls}/{name} {label}')
                n_tiles += len(tiles[(cls, rel)])
                source_lines.append(f'{split} {cls} {osp.join(cls, rel)} '
                                    f'{len(tiles[(cls, rel)])} {bars[(cls, rel)]}')
            row += [len(parts[split]), n_tiles]
        row.append(sum(1 for rel in readable if bars[(cls, rel)]))
        table.append(row)
    shutil.rmtree(staging)
    for split in SPLITS:
        _write_text(osp.join(meta, f'{split}.txt'), lines[split])
    _write_text(osp.join(meta, 'classes.txt'), classes)
    _write_text(osp.join(meta, 'sources.txt'), source_lines)
    staged.commit()
    _print_table(table, out, args, len(bad))
    return 0


def _write_text(path: str, lines: Sequence[str]) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def _print_table(table, out, args, n_bad) -> None:
    width = max(5, *(len(r[0]) for r in table))
    print(f'{out}: {len(table)} classes, tile {args.tile}, seed {args.seed}, val {args.val}, '
          f'test {args.test}, small images: {args.small}'
          + (f', {n_bad} unreadable file(s) skipped' if n_bad else ''))
    head = (f'{"class":<{width}}  {"train img/tiles":>15}  {"val img/tiles":>13}  '
            f'{"test img/tiles":>14}  {"bars":>4}')
    print(head)
    tot = [0] * 7
    for r in table:
        print(f'{r[0]:<{width}}  {f"{r[1]}/{r[2]}":>15}  {f"{r[3]}/{r[4]}":>13}  '
              f'{f"{r[5]}/{r[6]}":>14}  {r[7]:>4}')
        tot = [a + b for a, b in zip(tot, r[1:])]
    print(f'{"total":<{width}}  {f"{tot[0]}/{tot[1]}":>15}  {f"{tot[2]}/{tot[3]}":>13}  '
          f'{f"{tot[4]}/{tot[5]}":>14}  {tot[6]:>4}')


def main(argv=None) -> int:
    return convert(parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
