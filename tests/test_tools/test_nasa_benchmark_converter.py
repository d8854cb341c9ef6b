"""Tests of tools/dataset_converters/nasa_benchmark.py on tiny generated TIFFs in the benchmark's
real encodings (every error path, dedup, atomic writes, --download offline) and, marked slow, on
the full real benchmark."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.fileio import write_bytes_atomic

REPO = Path(__file__).resolve().parents[1].parent
REAL_SRC = REPO.parent / 'shared/data/nasa_benchmark/benchmark_segmentation_data'


def _load_converter():
    name = 'nasa_benchmark_converter'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / 'tools/dataset_converters/nasa_benchmark.py')
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # picklable for --nproc > 1
        spec.loader.exec_module(mod)
    return sys.modules[name]


conv = _load_converter()
RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------------ fixtures
def _grey_rgb(dtype=np.uint8, size=8):
    vmax = np.iinfo(dtype).max
    g = RNG.integers(0, vmax, (size, size), dtype=dtype, endpoint=True)
    return np.stack([g] * 3, -1)


def _super_mask(dtype=np.uint8, size=8):
    vmax = np.iinfo(dtype).max
    m = _grey_rgb(dtype, size)
    m = np.concatenate([m, np.full((size, size, 1), vmax, dtype)], -1)
    m[:2, :, :3] = (0, 0, vmax)  # secondary
    m[-1, :, :3] = (vmax, 0, 0)  # tertiary
    return m


def _ebc_mask(size=8):
    m = np.zeros((size, size), np.uint8)
    m[2:4] = 1
    m[5, :3] = 2
    return m


def _w(path: Path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, arr, compression='zlib',
                     photometric='rgb' if arr.ndim == 3 else 'minisblack')


def _super_pair(src, split, part, stem, img, mask):
    _w(src / split / part / f'{stem}.tif', img)
    _w(src / split / f'{part}_annot' / f'{stem}_mask.tif', mask)


def _ebc_pair(src, split, part, stem, mask=None):
    _w(src / split / part / f'{stem}.tif', _grey_rgb())
    _w(src / split / f'{part}_annot' / f'{stem}.tif', _ebc_mask() if mask is None else mask)


@pytest.fixture
def src(tmp_path):
    s = tmp_path / 'benchmark_segmentation_data'
    _super_pair(s, 'Super1', 'train', 'a', _grey_rgb(), _super_mask())
    _super_pair(s, 'Super1', 'train', 'b16', _grey_rgb(np.uint16), _super_mask(np.uint16))
    _super_pair(s, 'Super1', 'val', 'v', _grey_rgb(), _super_mask())
    (s / 'Super1/train/notes.txt').write_text('not an image')
    # the same files in another split -> converted once, shared
    for sub, name in (('train', 'a.tif'), ('train_annot', 'a_mask.tif')):
        (s / 'Super2' / sub).mkdir(parents=True)
        shutil.copy(s / 'Super1' / sub / name, s / 'Super2' / sub / name)
    _super_pair(s, 'Super2', 'different_test', 'ood', _grey_rgb(np.uint16),
                _super_mask(np.uint16))
    _ebc_pair(s, 'EBC1', 'train', 'e1')
    _w(s / 'EBC1/train_annot/lost.tif', _ebc_mask())  # mask without image
    _w(s / 'EBC1/train/nomask.tif', _grey_rgb())  # image without mask
    for stem in ('z2', 'z1', 'z3'):
        _ebc_pair(s, 'EBC3', 'train', stem)
    _ebc_pair(s, 'EBC3', 'val', 'zv')
    _ebc_pair(s, 'EBC3', 'test', 'zt')
    return s


def _run(src, out, *extra):
    return conv.main([str(src), '-o', str(out), *extra])


def _lines(path):
    return path.read_text().splitlines()


def _png(path):
    return np.array(Image.open(path))


# --------------------------------------------------------------------------------- tests
def test_convert_layout_values_and_dedup(src, tmp_path, capsys):
    out = tmp_path / 'out'
    assert _run(src, out) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        '_files', 'ebc1', 'ebc3', 'ebc3_heldout', 'super1', 'super2']
    assert _lines(out / 'super1/splits/train.txt') == ['a', 'b16']
    assert _lines(out / 'super1/splits/val.txt') == ['v']
    assert _lines(out / 'super2/splits/different_test.txt') == ['ood']
    assert _lines(out / 'ebc1/splits/train.txt') == ['e1']
    # one-shot ebc3: first paired train stem in sorted order; heldout: as shipped
    assert _lines(out / 'ebc3/splits/train.txt') == ['z1']
    assert _lines(out / 'ebc3_heldout/splits/train.txt') == ['z1', 'z2', 'z3']
    for split in ('ebc3', 'ebc3_heldout'):
        assert _lines(out / split / 'splits/val.txt') == ['zv']
        assert _lines(out / split / 'splits/test.txt') == ['zt']
    assert sorted(os.listdir(out / 'ebc3/img_dir/train')) == ['z1.png']

    # images: grey 8-bit, uint16 scaled over the full range
    raw16 = tifffile.imread(src / 'Super1/train/b16.tif')
    img16 = _png(out / 'super1/img_dir/train/b16.png')
    assert img16.dtype == np.uint8 and img16.shape == (8, 8)
    np.testing.assert_array_equal(img16, np.round(raw16[..., 0] / 257.0))
    np.testing.assert_array_equal(_png(out / 'super1/img_dir/train/a.png'),
                                  tifffile.imread(src / 'Super1/train/a.tif')[..., 0])
    # masks: Super -> 0/1/2 indices, EBC raw values kept
    expect = np.zeros((8, 8), np.uint8)
    expect[:2] = 1
    expect[-1] = 2
    for rel in ('super1/ann_dir/train/a.png', 'super1/ann_dir/train/b16.png',
                'super2/ann_dir/different_test/ood.png'):
        np.testing.assert_array_equal(_png(out / rel), expect)
    np.testing.assert_array_equal(_png(out / 'ebc1/ann_dir/train/e1.png'), _ebc_mask())

    # dedup: one stored file per distinct content, hard-linked into every split
    a1, a2 = out / 'super1/img_dir/train/a.png', out / 'super2/img_dir/train/a.png'
    assert os.path.samefile(a1, a2) and a1.stat().st_nlink == 3
    assert os.path.samefile(out / 'super1/ann_dir/train/a.png',
                            out / 'super2/ann_dir/train/a.png')
    stored = sorted(p.relative_to(out / '_files').parts[0] for p in (out / '_files').rglob('*')
                    if p.is_file())
    # all EBC micrographs are distinct random images, all EBC masks are equal
    assert stored.count('ebc_ann') == 1
    assert stored.count('super_ann') == 4 and stored.count('img') == 4 + 6
    # the EBC3 files are shared between ebc3 and ebc3_heldout
    assert os.path.samefile(out / 'ebc3/img_dir/val/zv.png',
                            out / 'ebc3_heldout/img_dir/val/zv.png')

    # summary: pairs per split/part, class fractions, unpaired and ignored files
    assert "super1        2      1    -     -               matrix" in printed
    assert 'ebc3_heldout  3      1    1' in printed
    assert 'Unpaired files (2)' in printed
    assert f'mask without image: {src / "EBC1/train_annot/lost.tif"}' in printed
    assert f'image without mask: {src / "EBC1/train/nomask.tif"}' in printed
    assert f'not a TIFF file: {src / "Super1/train/notes.txt"}' in printed
    assert "one-shot training image 'z1'" in printed
    assert not list(out.rglob('*.tmp'))


def test_rerun_nproc_oneshot_choice_and_stale_cleanup(src, tmp_path, capsys):
    out = tmp_path / 'out'
    assert _run(src, out) == 0
    (out / 'super1/img_dir/train/stale.png').write_bytes(b'x')
    (out / '_files/img/orphan.png').write_bytes(b'x')
    assert _run(src, out, '--nproc', '2', '--ebc3-oneshot', 'z2') == 0
    assert _lines(out / 'ebc3/splits/train.txt') == ['z2']
    assert sorted(os.listdir(out / 'ebc3/ann_dir/train')) == ['z2.png']
    assert not (out / 'super1/img_dir/train/stale.png').exists()
    assert not (out / '_files/img/orphan.png').exists()
    assert os.path.samefile(out / 'super1/img_dir/train/a.png',
                            out / 'super2/img_dir/train/a.png')
    capsys.readouterr()
    assert _run(src, out, '--ebc3-oneshot', 'nope') == 1
    assert "'nope' is not a good paired EBC3 train image" in capsys.readouterr().err
    # --splits converts only the named splits
    out2 = tmp_path / 'out2'
    assert _run(src, out2, '--splits', 'ebc3') == 0
    assert sorted(p.name for p in out2.iterdir()) == ['_files', 'ebc3']


def test_bad_inputs_are_reported_and_fatal_unless_skip_bad(src, tmp_path, capsys):
    bad_colour = _super_mask()
    bad_colour[3, 4, :3] = (0, 200, 0)
    _super_pair(src, 'Super1', 'train', 'badcol', _grey_rgb(), bad_colour)
    _super_pair(src, 'Super1', 'train', 'mis', _grey_rgb(), _super_mask(size=4))
    _super_pair(src, 'Super1', 'val', 'trunc', _grey_rgb(), _super_mask())
    data = (src / 'Super1/val/trunc.tif').read_bytes()
    (src / 'Super1/val/trunc.tif').write_bytes(data[:len(data) - 40])
    _super_pair(src, 'Super1', 'val', 'empty', _grey_rgb(), _super_mask())
    (src / 'Super1/val_annot/empty_mask.tif').write_bytes(b'')
    bad_ebc = _ebc_mask()
    bad_ebc[0, 0] = 5
    _ebc_pair(src, 'EBC1', 'train', 'e5', bad_ebc)
    expected = {
        'Super1/train_annot/badcol_mask.tif': 'colours outside the encoding',
        'Super1/train_annot/mis_mask.tif': 'mask size 4x4 (HxW) differs from image size 8x8',
        'Super1/val/trunc.tif': 'truncated',
        'Super1/val_annot/empty_mask.tif': 'empty file (0 bytes)',
        'EBC1/train_annot/e5.tif': 'values outside {0, 1, 2}: 5 x1',
    }
    out = tmp_path / 'out'
    assert _run(src, out) == 1
    cap = capsys.readouterr()
    assert 'Bad files (5), 5 pair(s) affected' in cap.out
    for rel, reason in expected.items():
        line = [ln for ln in cap.out.splitlines() if ln.startswith(f'  {src / rel}: ')]
        assert len(line) == 1 and reason in line[0], (rel, cap.out)
    assert 'split folders were not written' in cap.err
    assert sorted(p.name for p in out.iterdir()) == ['_files']  # no split written

    assert _run(src, out, '--skip-bad') == 0
    cap = capsys.readouterr()
    assert 'Bad files (5), 5 pair(s) skipped' in cap.out
    for rel in expected:
        assert str(src / rel) in cap.out
    assert _lines(out / 'super1/splits/train.txt') == ['a', 'b16']
    assert _lines(out / 'super1/splits/val.txt') == ['v']
    assert _lines(out / 'ebc1/splits/train.txt') == ['e1']


def test_manifest_mismatch_is_bad(src, tmp_path, capsys):
    manifest = {'Super1/val/v.tif': dict(shape=[8, 8, 3], dtype='uint8', pixels_sha256='0' * 64),
                'Super1/train/a.tif': dict(
                    shape=[8, 8, 3], dtype='uint8',
                    pixels_sha256=csunet.datasets.nasa_encoding.pixels_sha256(
                        tifffile.imread(src / 'Super1/train/a.tif')))}
    (src.parent / 'MANIFEST.json').write_text(json.dumps(manifest))
    assert _run(src, tmp_path / 'out') == 1
    printed = capsys.readouterr().out
    assert f'{src / "Super1/val/v.tif"}: pixels differ from MANIFEST.json' in printed
    assert 'Bad files (1)' in printed
    assert _run(src, tmp_path / 'out', '--manifest', 'none') == 0


def test_atomic_writes_leave_no_partial_files(src, tmp_path, monkeypatch):
    target = tmp_path / 'w' / 'f.png'
    real_replace = os.replace

    def boom(*args):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(OSError, match='disk full'):
        write_bytes_atomic(str(target), b'data')
    assert os.listdir(target.parent) == []
    monkeypatch.setattr(os, 'replace', real_replace)

    # a run interrupted while converting writes no split folder and no partial file
    calls = []

    def flaky_png(arr):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_png(arr)

    real_png = conv._png_bytes
    monkeypatch.setattr(conv, '_png_bytes', flaky_png)
    out = tmp_path / 'out'
    with pytest.raises(KeyboardInterrupt):
        _run(src, out)
    files = [p for p in out.rglob('*') if p.is_file()]
    assert len(files) == 4 and all(p.parent.parent.name == '_files' for p in files)
    for p in files:
        Image.open(p).load()  # complete PNGs


def test_download_fails_clearly_offline(tmp_path, monkeypatch, capsys):
    def no_git(cmd, **kwargs):
        raise subprocess.CalledProcessError(128, cmd, stderr='fatal: Could not resolve host')

    def no_http(*args, **kwargs):
        raise urllib.error.URLError('Name or service not known')

    monkeypatch.setattr(subprocess, 'run', no_git)
    monkeypatch.setattr(urllib.request, 'urlopen', no_http)
    missing = tmp_path / 'dl' / 'benchmark_segmentation_data'
    assert _run(missing, tmp_path / 'out', '--download') == 3
    err = capsys.readouterr().err
    assert 'could not download https://github.com/nasa/pretrained-microscopy-models' in err
    assert 'Could not resolve host' in err and 'Name or service not known' in err
    assert not missing.exists() and not (tmp_path / 'out').exists()
    # without --download a missing SRC is a clear error too
    assert _run(missing, tmp_path / 'out') == 1
    assert 'not found' in capsys.readouterr().err


@pytest.mark.slow
def test_full_real_conversion(tmp_path, capsys):
    if not REAL_SRC.is_dir():
        pytest.skip(f'NASA benchmark not found at {REAL_SRC}')
    out = tmp_path / 'nasa'
    t0 = time.time()
    assert _run(REAL_SRC, out, '--nproc', '2') == 0
    duration = time.time() - t0
    printed = capsys.readouterr().out
    readme = {  # README "Pairs per split" table
        'super1': dict(train=10, val=4, test=4),
        'super2': dict(train=4, val=4, test=4, different_test=5),
        'super3': dict(train=1, val=4, test=4, different_test=5),
        'super4': dict(train=4, val=4, test=5), 'ebc1': dict(train=16, val=3, test=3),
        'ebc2': dict(train=4, val=3, test=3), 'ebc3_heldout': dict(train=13, val=3, test=6),
        'ebc3': dict(train=1, val=3, test=6)}
    for split, parts in readme.items():
        got = {p.stem: len(_lines(p)) for p in (out / split / 'splits').glob('*.txt')}
        assert got == parts, split
        for part, n in parts.items():
            assert len(os.listdir(out / split / 'img_dir' / part)) == n
            assert len(os.listdir(out / split / 'ann_dir' / part)) == n
    assert _lines(out / 'ebc3/splits/train.txt') == ['010417#4_S2480009']
    assert 'Unpaired files (4)' in printed
    for name in ('120718#4-B1_50cyc_14260025.tif', '122018#3_100cyc-1426C0017.tif'):
        for split in ('EBC1', 'EBC3'):
            assert f'mask without image: {REAL_SRC / split / "train_annot" / name}' in printed
    assert 'Bad files' not in printed
    # Super4 test == Super2/3 different_test, stored once
    for stem in _lines(out / 'super4/splits/test.txt'):
        assert os.path.samefile(out / 'super4/img_dir/test' / f'{stem}.png',
                                out / 'super2/img_dir/different_test' / f'{stem}.png')
    assert len(list((out / '_files').rglob('*.png'))) == 90
    print(f'full real conversion took {duration:.1f} s')
    assert duration < 180
