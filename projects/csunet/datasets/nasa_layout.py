"""NASA's ``benchmark_segmentation_data/`` layout: what pairs, what is decoded once, what is bad,
and which pairs make up each output split of ``tools/dataset_converters/nasa_benchmark.py``.

Source layout (nasa/pretrained-microscopy-models)::

    SRC/<Split>/<part>/<stem>.tif                 micrograph
    SRC/<Split>/<part>_annot/<stem>_mask.tif      Super mask (RGBA overlay)
    SRC/<Split>/<part>_annot/<stem>.tif           EBC mask (raw values)

Everything here is pure bookkeeping on paths and per-file results (no decoding, no writing), so
it is tested directly (``tests/test_datasets/test_nasa_layout.py``); the converter decodes and
writes.
"""
import hashlib
import os
import os.path as osp
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Set, Tuple

from . import nasa_encoding as enc

__all__ = [
    'SOURCE_SPLITS', 'OUTPUT_SPLITS', 'ONESHOT_SPLIT', 'PART_ORDER', 'TIFF_EXTS', 'ANN_KIND',
    'Pair', 'Scan', 'OneShotError', 'part_sort_key', 'scan_source', 'file_sha256',
    'plan_decoding', 'find_bad_files', 'check_pairs', 'assemble_splits', 'referenced_outputs'
]

#: source folder -> mask flavour
SOURCE_SPLITS = {
    'Super1': 'super', 'Super2': 'super', 'Super3': 'super', 'Super4': 'super',
    'EBC1': 'ebc', 'EBC2': 'ebc', 'EBC3': 'ebc'
}
#: output split -> source folder
OUTPUT_SPLITS = {
    'super1': 'Super1', 'super2': 'Super2', 'super3': 'Super3', 'super4': 'Super4',
    'ebc1': 'EBC1', 'ebc2': 'EBC2', 'ebc3': 'EBC3', 'ebc3_heldout': 'EBC3'
}
#: the CS-UNet paper's one-shot EBC-3: EBC3 with a single training image
ONESHOT_SPLIT = 'ebc3'
PART_ORDER = ('train', 'val', 'test', 'different_test')
TIFF_EXTS = ('.tif', '.tiff')
#: mask flavour -> decoding kind of its masks (images are kind ``'img'``)
ANN_KIND = {'super': 'super_ann', 'ebc': 'ebc_ann'}

#: a decoding job: (kind, sha256 of the file's bytes, or ``'unreadable:<path>'``)
Job = Tuple[str, str]


@dataclass
class Pair:
    source: str  # source split folder
    part: str
    stem: str
    img: str
    mask: str


@dataclass
class Scan:
    pairs: List[Pair] = field(default_factory=list)
    unpaired: List[Tuple[str, str]] = field(default_factory=list)  # (path, why)
    ignored: List[Tuple[str, str]] = field(default_factory=list)


class OneShotError(ValueError):
    """The requested one-shot EBC3 training image is not a good paired EBC3 training image."""


def part_sort_key(part: str):
    """Known parts in :data:`PART_ORDER`, then any other part by name."""
    return (PART_ORDER.index(part) if part in PART_ORDER else len(PART_ORDER), part)


def _tiffs(folder: str, scan: Scan) -> List[str]:
    if not osp.isdir(folder):
        return []
    names = []
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if name.startswith('.'):
            continue
        if osp.isfile(path) and name.lower().endswith(TIFF_EXTS):
            names.append(name)
        else:
            scan.ignored.append((path, 'not a TIFF file'))
    return names


def scan_source(src: str, sources: Optional[Iterable[str]] = None) -> Tuple[Scan, List[str]]:
    """Pair images with masks in the known split folders; returns (scan, missing splits).

    Args:
        src: The ``benchmark_segmentation_data/`` folder.
        sources: Source folders to scan (keys of :data:`SOURCE_SPLITS`); all when None.
    """
    scan, missing = Scan(), []
    for source, flavour in SOURCE_SPLITS.items():
        if sources is not None and source not in sources:
            continue
        root = osp.join(src, source)
        if not osp.isdir(root):
            missing.append(source)
            continue
        subdirs = [d for d in os.listdir(root) if osp.isdir(osp.join(root, d))]
        parts = {d[:-len('_annot')] if d.endswith('_annot') else d for d in subdirs}
        for part in sorted(parts, key=part_sort_key):
            img_dir, ann_dir = osp.join(root, part), osp.join(root, part + '_annot')
            images = {osp.splitext(n)[0]: osp.join(img_dir, n) for n in _tiffs(img_dir, scan)}
            masks = {}
            for n in _tiffs(ann_dir, scan):
                stem = osp.splitext(n)[0]
                if flavour == 'super':
                    if not stem.endswith('_mask'):
                        scan.unpaired.append((osp.join(ann_dir, n),
                                              'Super mask name lacks the _mask suffix'))
                        continue
                    stem = stem[:-len('_mask')]
                masks[stem] = osp.join(ann_dir, n)
            for stem in sorted(set(images) | set(masks)):
                if stem in images and stem in masks:
                    scan.pairs.append(Pair(source, part, stem, images[stem], masks[stem]))
                elif stem in images:
                    scan.unpaired.append((images[stem], 'image without mask'))
                else:
                    scan.unpaired.append((masks[stem], 'mask without image'))
    return scan, missing


def file_sha256(path: str) -> Optional[str]:
    """sha256 of the file's bytes; None when it cannot be read (decoding then reports why)."""
    h = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def plan_decoding(pairs: Iterable[Pair]) -> Tuple[Dict[Job, List[str]], Dict[str, Job]]:
    """Group the pairs' files by (kind, file content), so each distinct content is decoded once.

    Returns:
        ``(jobs, path_job)``: job -> source paths with that content (in first-seen order), and
        each source path -> its job. An unreadable file is a job of its own.
    """
    jobs: Dict[Job, List[str]] = defaultdict(list)
    path_job: Dict[str, Job] = {}
    for p in pairs:
        for kind, path in (('img', p.img), (ANN_KIND[SOURCE_SPLITS[p.source]], p.mask)):
            if path in path_job:
                continue
            fsha = file_sha256(path) or 'unreadable:' + path
            path_job[path] = (kind, fsha)
            jobs[(kind, fsha)].append(path)
    return dict(jobs), path_job


def find_bad_files(info: Mapping[str, dict], manifest: Optional[dict],
                   src: str) -> Dict[str, str]:
    """Source path -> why it is bad: decoding errors, and pixels that differ from the manifest.

    Args:
        info: Source path -> the converter's decoding result (``error``, or ``shape``, ``dtype``
            and ``pixels_sha256``).
        manifest: ``MANIFEST.json`` contents (keys: paths relative to ``src``, '/'-separated), or
            None to skip the check.
        src: The source root the manifest paths are relative to.
    """
    bad: Dict[str, str] = {}
    for path, res in info.items():
        if res['error']:
            bad[path] = res['error']
            continue
        if manifest is None:
            continue
        entry = manifest.get(osp.relpath(path, src).replace(os.sep, '/'))
        if entry is not None and (entry.get('pixels_sha256') != res['pixels_sha256']
                                  or tuple(entry.get('shape', ())) != res['shape']
                                  or entry.get('dtype') != res['dtype']):
            bad[path] = (f'pixels differ from MANIFEST.json (got {res["dtype"]} '
                         f'{res["shape"]} sha256 {res["pixels_sha256"][:12]}..., expected '
                         f'{entry.get("dtype")} {tuple(entry.get("shape", ()))} '
                         f'{str(entry.get("pixels_sha256"))[:12]}...)')
    return bad


def check_pairs(pairs: Iterable[Pair], info: Mapping[str, dict],
                bad: Dict[str, str]) -> Tuple[List[Pair], List[Pair]]:
    """Split pairs into good and bad ones; a mask whose size differs from its image is added to
    ``bad`` (in place) with the reason."""
    good_pairs, bad_pairs = [], []
    for p in pairs:
        reasons = [f'{path}: {bad[path]}' for path in (p.img, p.mask) if path in bad]
        if not reasons:
            why = enc.image_mask_shape_error(info[p.img]['shape'], info[p.mask]['shape'])
            if why:
                bad[p.mask] = why
                reasons.append(f'{p.mask}: {why}')
        (bad_pairs if reasons else good_pairs).append(p)
    return good_pairs, bad_pairs


def assemble_splits(good_pairs: Iterable[Pair], out_splits: Mapping[str, str],
                    oneshot: Optional[str] = None
                    ) -> Tuple[Dict[str, Dict[str, List[Pair]]], Optional[str]]:
    """Output split -> part -> pairs, from the good pairs of each split's source folder.

    Splits whose source has no good pair are left out. :data:`ONESHOT_SPLIT` keeps a single
    training pair: ``oneshot`` (a stem), by default the first good EBC3 training stem in sorted
    (code point) order.

    Returns:
        ``(splits, oneshot_stem)``; ``oneshot_stem`` is None when the one-shot split is not built.

    Raises:
        OneShotError: ``oneshot`` is not among the good EBC3 training stems (or there is none).
    """
    by_source: Dict[str, Dict[str, List[Pair]]] = defaultdict(lambda: defaultdict(list))
    for p in good_pairs:
        by_source[p.source][p.part].append(p)
    splits: Dict[str, Dict[str, List[Pair]]] = {}
    oneshot_stem = None
    for split, source in out_splits.items():
        if source not in by_source:
            continue
        parts = {part: list(ps) for part, ps in by_source[source].items()}
        if split == ONESHOT_SPLIT:
            stems = sorted(p.stem for p in parts.get('train', []))
            oneshot_stem = oneshot or (stems[0] if stems else None)
            if oneshot_stem not in stems:
                raise OneShotError(f'one-shot EBC3 training image {oneshot_stem!r} is not a good '
                                   f'paired EBC3 train image (choices: {stems})')
            parts['train'] = [p for p in parts['train'] if p.stem == oneshot_stem]
        splits[split] = parts
    return splits, oneshot_stem


def referenced_outputs(splits: Mapping[str, Mapping[str, List[Pair]]],
                       info: Mapping[str, dict]) -> Set[str]:
    """Converted files (``info[path]['out']``, normalised) that the splits link to."""
    return {osp.normpath(info[path]['out']) for parts in splits.values()
            for ps in parts.values() for p in ps for path in (p.img, p.mask)}
