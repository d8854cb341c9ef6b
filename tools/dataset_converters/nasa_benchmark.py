"""Convert NASA's microstructure segmentation benchmark (Super 1-4, EBC 1-3) to mmseg layout.

Usage::

    python tools/dataset_converters/nasa_benchmark.py SRC -o OUT [--skip-bad] [--download]
        [--nproc N] [--splits SPLIT ...] [--manifest PATH] [--ebc3-oneshot STEM]

``SRC`` is the ``benchmark_segmentation_data/`` folder of nasa/pretrained-microscopy-models
(``<Split>/<part>/*.tif`` micrographs, ``<Split>/<part>_annot/*.tif`` masks). Output::

    OUT/_files/{img,super_ann,ebc_ann}/<key>.png   each unique converted file, written once
    OUT/<split>/img_dir/<part>/<stem>.png           links into _files (hard, else sym, else copy)
    OUT/<split>/ann_dir/<part>/<stem>.png           uint8 index masks
    OUT/<split>/splits/<part>.txt                   one stem per line (the dataset ``ann_file``)

Splits: ``super1``..``super4``, ``ebc1``, ``ebc2``, ``ebc3_heldout`` (NASA's EBC3 folder as
shipped) and ``ebc3``, the CS-UNet paper's *one-shot* EBC-3: EBC3's own ``val``/``test`` with a
single training image, by default the first stem in sorted (code point) order among EBC3's
*paired* training images (``--ebc3-oneshot`` picks another). Parts are the source folders
(``train``, ``val``, ``test``, and ``different_test`` for Super2/3; Super4's ``test`` is the
out-of-distribution set).

Decoding (see :mod:`csunet.datasets.nasa_encoding`): micrographs become 8-bit PNG, grey when the
RGB channels are equal, alpha dropped, ``uint16`` scaled linearly over the full dtype range
(``round(v / 257)``, never per-image stretching). Super RGBA overlays become 0 = matrix (grey),
1 = secondary (pure blue), 2 = tertiary (pure red); EBC masks keep raw values 0/1/2 (crack
merging is an option of ``EBCDataset``).

Dedup: each source file is decoded once per distinct content (file sha256), and each converted
file is stored once under ``_files/<kind>/`` named by a sha256 over the source pixel array's
dtype, shape and bytes, so the same image in several splits is converted and stored once and
linked into every split folder.

Bad input never passes silently: unreadable, empty or truncated TIFFs, pixels that differ from
``MANIFEST.json`` (checked when found beside SRC), a mask whose HxW differs from its image, and
colours/values outside the encoding are listed with path and reason; the run then exits 1
without touching the split folders, unless ``--skip-bad`` (the pairs are skipped and still
listed). Unpaired files (image without mask, mask without image) are listed, never fatal.
Pairing, de-duplication, bad-file checks and split assembly are in
:mod:`csunet.datasets.nasa_layout` (tested directly); :func:`main` runs one function per step:
fetch the source, scan it, decode each distinct content once (``--nproc`` processes, with
mmengine's progress bar on stderr), check, write the split folders, report.
Every output file is written to a temporary name and ``os.replace``-d, so an interrupted run
leaves no half-written file; on success, stale files of the converted split folders are removed,
and so are (on runs without ``--splits``) ``_files`` entries no split references.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress

from csunet.datasets import nasa_encoding as enc
from csunet.datasets import nasa_layout as layout
from csunet.datasets.nasa_layout import OUTPUT_SPLITS, SOURCE_SPLITS, Pair, Scan
from csunet.fileio import write_bytes_atomic

REPO_URL = 'https://github.com/nasa/pretrained-microscopy-models.git'
ZIP_URL = 'https://codeload.github.com/nasa/pretrained-microscopy-models/zip/refs/heads/main'
CLASS_NAMES = {'super': enc.SUPER_CLASSES, 'ebc': enc.EBC_RAW_CLASSES}


class DownloadError(RuntimeError):
    pass


# ------------------------------------------------------------------------------ conversion
def _png_bytes(arr: np.ndarray) -> bytes:
    import cv2
    if arr.ndim == 3:
        arr = arr[..., ::-1]  # RGB -> BGR for OpenCV
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(arr), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError('PNG encoding failed')
    return buf.tobytes()


def convert_file(kind: str, path: str, files_root: str) -> dict:
    """Decode one source file, write its converted PNG into ``files_root/<kind>/``.

    Returns ``dict(error=...)`` on bad input, else shape/dtype/pixel sha/out path (+ class counts
    for masks). Runs in worker processes.
    """
    try:
        arr = enc.read_tiff(path)
        if kind == 'img':
            out = enc.image_to_uint8(arr)
            counts = None
        elif kind == 'super_ann':
            out = enc.decode_super_mask(arr)
            counts = enc.class_pixel_counts(out, 3)
        elif kind == 'ebc_ann':
            out = enc.check_ebc_mask(arr)
            counts = enc.class_pixel_counts(out, 3)
        else:
            raise ValueError(kind)
    except enc.EncodingError as err:
        return dict(error=str(err))
    key = enc.content_key(arr)
    rel = osp.join('_files', kind, key + '.png')
    write_bytes_atomic(osp.join(files_root, rel), _png_bytes(out))
    return dict(error=None, shape=tuple(arr.shape), dtype=str(arr.dtype),
                pixels_sha256=enc.pixels_sha256(arr), out=rel, counts=counts)


def _link(src: str, dst: str) -> str:
    """Atomically make ``dst`` a hard link to ``src`` (else a relative symlink, else a copy)."""
    os.makedirs(osp.dirname(dst), exist_ok=True)
    if osp.lexists(dst):
        try:
            if osp.samefile(src, dst) and not osp.islink(dst):
                return 'hardlink'
        except OSError:
            pass
    tmp = osp.join(osp.dirname(dst), f'.{osp.basename(dst)}.{os.getpid()}.tmp')
    if osp.lexists(tmp):
        os.unlink(tmp)
    try:
        os.link(src, tmp)
        how = 'hardlink'
    except OSError:
        try:
            os.symlink(osp.relpath(src, osp.dirname(dst)), tmp)
            how = 'symlink'
        except OSError:
            shutil.copyfile(src, tmp)
            how = 'copy'
    os.replace(tmp, dst)
    return how


# --------------------------------------------------------------------------------- download
def download(src: str, timeout: float = 120) -> None:
    """Fetch ``benchmark_segmentation_data/`` of nasa/pretrained-microscopy-models into ``src``.

    Tries ``git`` (sparse, shallow clone), then the https zip archive; any network failure
    becomes a :class:`DownloadError` with instructions.
    """
    parent = osp.dirname(osp.abspath(src)) or '.'
    os.makedirs(parent, exist_ok=True)
    errors = []
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        repo = osp.join(tmp, 'repo')
        try:
            if shutil.which('git') is None:
                raise FileNotFoundError('git not installed')
            env = dict(os.environ, GIT_TERMINAL_PROMPT='0')
            subprocess.run(['git', 'clone', '--depth', '1', '--filter=blob:none', '--sparse',
                            REPO_URL, repo], check=True, capture_output=True, text=True,
                           timeout=timeout, env=env)
            subprocess.run(['git', '-C', repo, 'sparse-checkout', 'set',
                            'benchmark_segmentation_data'], check=True, capture_output=True,
                           text=True, timeout=timeout, env=env)
            data = osp.join(repo, 'benchmark_segmentation_data')
        except (OSError, subprocess.SubprocessError) as err:
            detail = getattr(err, 'stderr', None) or str(err)
            errors.append(f'git: {str(detail).strip().splitlines()[-1] if detail else err}')
            data = None
        if data is None:
            import urllib.request
            import zipfile
            try:
                archive = osp.join(tmp, 'repo.zip')
                with urllib.request.urlopen(ZIP_URL, timeout=timeout) as r, \
                        open(archive, 'wb') as f:
                    shutil.copyfileobj(r, f)
                with zipfile.ZipFile(archive) as z:
                    z.extractall(repo)
                found = [osp.join(dp, d) for dp, dns, _ in os.walk(repo) for d in dns
                         if d == 'benchmark_segmentation_data']
                if not found:
                    raise OSError('archive has no benchmark_segmentation_data/')
                data = found[0]
            except Exception as err:  # URLError, socket errors, BadZipFile ...
                errors.append(f'https: {type(err).__name__}: {err}')
        if data is None:
            raise DownloadError(
                f'could not download {REPO_URL} (is there network access?):\n  ' +
                '\n  '.join(errors) +
                '\nDownload it elsewhere (the TIFFs are in git LFS: `git lfs install && git clone '
                f'{REPO_URL}`) and pass its benchmark_segmentation_data/ folder as SRC.')
        shutil.move(data, src)
    print(f'downloaded benchmark data to {src} (check that the LFS TIFFs are real images, not '
          'pointer files; the converter reports them as unreadable otherwise)')


# ----------------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert the NASA Super 1-4 / EBC 1-3 benchmark to mmseg format',
        epilog='Exit status: 0 ok, 1 bad input (without --skip-bad), 3 download failed.')
    parser.add_argument('src', help='benchmark_segmentation_data/ folder')
    parser.add_argument('-o', '--out-dir', required=True, help='output root (data_root)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='skip (and list) bad files/pairs instead of failing')
    parser.add_argument('--download', action='store_true',
                        help=f'fetch the data from {REPO_URL} into SRC if SRC is missing')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    parser.add_argument('--splits', nargs='+', choices=list(OUTPUT_SPLITS), default=None,
                        metavar='SPLIT', help='convert only these output splits (default: all '
                        f'of {", ".join(OUTPUT_SPLITS)})')
    parser.add_argument('--manifest', default=None,
                        help='MANIFEST.json to verify pixels against (default: SRC/../'
                        'MANIFEST.json when present; "none" disables)')
    parser.add_argument('--ebc3-oneshot', default=None, metavar='STEM',
                        help='training image of the one-shot ebc3 split (default: first '
                        'paired EBC3 train stem in sorted order)')
    return parser.parse_args(argv)


def _load_manifest(args) -> Optional[dict]:
    path = args.manifest
    if path is None:
        path = osp.join(osp.dirname(osp.abspath(args.src)), 'MANIFEST.json')
        if not osp.isfile(path):
            return None
    elif path.lower() == 'none':
        return None
    with open(path) as f:
        return json.load(f)


def _fmt_table(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def _convert_job(job: Tuple[str, str, str]) -> dict:
    return convert_file(*job)


def fetch_source(args) -> int:
    """Step 1: make sure SRC exists (``--download`` fetches it); returns an exit status."""
    src = args.src
    if args.download:
        if osp.isdir(src) and os.listdir(src):
            print(f'--download: {src} exists and is not empty, using it as is')
        else:
            try:
                download(src)
            except DownloadError as err:
                print(f'ERROR: --download failed: {err}', file=sys.stderr)
                return 3
    if not osp.isdir(src):
        print(f'ERROR: source folder {src} not found (use --download to fetch it)',
              file=sys.stderr)
        return 1
    return 0


def decode_all(jobs: Dict[layout.Job, List[str]], path_job: Dict[str, layout.Job], out: str,
               nproc: int) -> Dict[str, dict]:
    """Step 3: decode each distinct content once (``nproc`` processes); source path -> result."""
    todo = [(kind, paths[0], out) for (kind, _), paths in jobs.items()]
    if nproc > 1 and len(todo) > 1:
        results = track_parallel_progress(_convert_job, todo, nproc, file=sys.stderr)
    else:
        results = track_progress(_convert_job, todo, file=sys.stderr) if todo else []
    job_result = dict(zip(jobs.keys(), results))
    return {path: job_result[job] for path, job in path_job.items()}


def write_splits(out: str, splits: Dict[str, Dict[str, List[Pair]]], info: Dict[str, dict],
                 collect_garbage: bool) -> Dict[str, int]:
    """Step 5: link each pair into its split folders, write the split lists, remove stale files
    (and, when ``collect_garbage``, ``_files`` entries no split references); link kind -> count.
    """
    link_kinds: Dict[str, int] = defaultdict(int)
    for split, parts in splits.items():
        for part, ps in parts.items():
            wanted = set()
            for p in ps:
                for sub, path in (('img_dir', p.img), ('ann_dir', p.mask)):
                    target = osp.join(out, split, sub, part, p.stem + '.png')
                    link_kinds[_link(osp.join(out, info[path]['out']), target)] += 1
                wanted.add(p.stem + '.png')
            for sub in ('img_dir', 'ann_dir'):  # stale files of earlier runs
                folder = osp.join(out, split, sub, part)
                for name in os.listdir(folder) if osp.isdir(folder) else []:
                    if name.endswith('.png') and name not in wanted:
                        os.unlink(osp.join(folder, name))
            write_bytes_atomic(osp.join(out, split, 'splits', part + '.txt'),
                               ''.join(p.stem + '\n' for p in ps).encode())
    if collect_garbage:  # only on full runs: a --splits run cannot see what other splits use
        referenced = layout.referenced_outputs(splits, info)
        for dp, _, names in os.walk(osp.join(out, '_files')):
            for name in names:
                rel = osp.normpath(osp.relpath(osp.join(dp, name), out))
                if rel not in referenced:
                    os.unlink(osp.join(dp, name))
    return dict(link_kinds)


def print_summary(args, scan: Scan, splits: Dict[str, Dict[str, List[Pair]]],
                  info: Dict[str, dict], bad: Dict[str, str], bad_pairs: List[Pair],
                  oneshot_stem: Optional[str]) -> None:
    """Step 6: pairs and class fractions per split, unpaired / ignored / bad files."""
    all_parts = sorted({part for ps in splits.values() for part in ps}, key=layout.part_sort_key)
    rows = [['split'] + all_parts + ['class pixel fractions (all parts)']]
    for split, parts in splits.items():
        flavour = SOURCE_SPLITS[OUTPUT_SPLITS[split]]
        totals = np.zeros(3, np.int64)
        for ps in parts.values():
            for p in ps:
                c = info[p.mask]['counts']
                totals += np.array([c[0], c[1], c[2]])
        frac = totals / max(int(totals.sum()), 1)
        rows.append([split] + [str(len(parts[pt])) if pt in parts else '-' for pt in all_parts] +
                    [', '.join(f'{n} {f:.4f}' for n, f in zip(CLASS_NAMES[flavour], frac))])
    print('\nPairs (image + mask) per split and part:')
    print(_fmt_table(rows))
    if oneshot_stem:
        print(f'\n{layout.ONESHOT_SPLIT}: one-shot training image {oneshot_stem!r} '
              f'({"--ebc3-oneshot" if args.ebc3_oneshot else "first paired EBC3 train stem"}); '
              'ebc3_heldout = EBC3 as shipped')
    print(f'\nUnpaired files ({len(scan.unpaired)}):')
    for path, why in scan.unpaired:
        print(f'  {why}: {path}')
    if scan.ignored:
        print(f'\nIgnored non-TIFF entries ({len(scan.ignored)}):')
        for path, why in scan.ignored:
            print(f'  {why}: {path}')
    if bad:
        print(f'\nBad files ({len(bad)}), {len(bad_pairs)} pair(s) '
              f'{"skipped" if args.skip_bad else "affected"}:')
        for path in sorted(bad):
            print(f'  {path}: {bad[path]}')


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    status = fetch_source(args)
    if status:
        return status
    manifest = _load_manifest(args)
    # 2. pair images with masks in the source folders the requested splits need
    out_splits = {k: v for k, v in OUTPUT_SPLITS.items() if not args.splits or k in args.splits}
    scan, missing = layout.scan_source(args.src, set(out_splits.values()))
    if missing:
        print(f'WARNING: split folders not found in {args.src}: {", ".join(missing)}')
    # 3. decode each distinct source content once
    jobs, path_job = layout.plan_decoding(scan.pairs)
    info = decode_all(jobs, path_job, args.out_dir, args.nproc)
    # 4. bad files (decoding, manifest, image/mask sizes) and the output splits
    bad = layout.find_bad_files(info, manifest, args.src)
    good_pairs, bad_pairs = layout.check_pairs(scan.pairs, info, bad)
    try:
        splits, oneshot_stem = layout.assemble_splits(good_pairs, out_splits, args.ebc3_oneshot)
    except layout.OneShotError as err:
        print(f'ERROR: {err}', file=sys.stderr)
        return 1
    # 5. write (only when nothing is bad, or bad pairs are to be skipped)
    ok = not bad or args.skip_bad
    link_kinds = write_splits(args.out_dir, splits, info, not args.splits) if ok else {}
    # 6. report
    print_summary(args, scan, splits, info, bad, bad_pairs, oneshot_stem)
    n_unique = len({r['out'] for r in info.values() if not r['error']})
    print(f'\n{len(good_pairs)} good source pairs, {len(info)} source files decoded as '
          f'{len(jobs)} distinct contents, {n_unique} unique output files; links: '
          f'{link_kinds or "none"}; {time.time() - t0:.1f} s')
    if not ok:
        print(f'\nERROR: {len(bad)} bad file(s) (listed above); split folders were not written. '
              'Fix the data or pass --skip-bad.', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
