"""tools/dataset_converters/microlite.py: data bar rule, tiling, split, bad files, atomic output."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools/dataset_converters/microlite.py'
_spec = importlib.util.spec_from_file_location('microlite_converter', TOOL)
conv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conv)


def _micrograph(h, w, seed=0):
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.normal(128, 60, (h, w)).astype(np.float32), (0, 0), 2)
    return np.clip(img * 1.5 - 64 + rng.normal(0, 8, (h, w)), 30, 220).astype(np.uint8)


def _with_bar(img, bar, white=False):
    """Append an SEM-style data bar: black (or white) band with white (black) text blocks."""
    h, w = img.shape
    band = np.full((bar, w), 255 if white else 0, np.uint8)
    for x in range(4, w - 12, 14):  # "text" rectangles
        band[bar // 4:bar // 4 + max(2, bar // 3), x:x + 8] = 0 if white else 255
    band[:1] = 128  # a uniform separator line
    return np.vstack([img, band])


@pytest.mark.parametrize('white', [False, True])
def test_detect_bar(white):
    img = _micrograph(200, 160)
    assert conv.detect_data_bar(img) == 0
    assert conv.detect_data_bar(_with_bar(img, 24, white)) == 24


def test_no_bar_on_binary_flat_or_huge_band():
    binary = (np.indices((100, 100)).sum(0) // 10 % 2 * 255).astype(np.uint8)
    assert conv.detect_data_bar(binary) == 0  # all rows saturated: not distinct
    flat = np.full((100, 100), 90, np.uint8)
    flat[:50] = _micrograph(50, 100)
    assert conv.detect_data_bar(flat) == 0  # uniform grey rows only, no saturated row
    assert conv.detect_data_bar(_with_bar(_micrograph(60, 100), 40)) == 0  # > 30 % of H
    assert conv.detect_data_bar(_with_bar(_micrograph(200, 100), 2)) == 0  # < 4 rows


def test_tile_rules():
    assert conv.tile_starts(1024, 512) == [0, 512]  # multiple: no overlap
    assert conv.tile_starts(512, 512) == [0]
    starts = conv.tile_starts(1100, 512)  # overlapping, evenly spaced, covers [0, 1100)
    assert starts == [0, 294, 588] and starts[-1] + 512 == 1100
    tiles = conv.tile_image(_micrograph(600, 1024), 512)
    assert [(y, x) for y, x, _ in tiles] == [(0, 0), (0, 512), (88, 0), (88, 512)]
    assert all(t.shape == (512, 512) for *_, t in tiles)
    small = _micrograph(40, 100)
    padded = conv.tile_image(small, 64, 'pad')
    assert [(y, x) for y, x, _ in padded] == [(0, 0), (0, 36)]
    np.testing.assert_array_equal(padded[0][2][:40], small[:, :64])  # original pixels kept
    np.testing.assert_array_equal(padded[0][2][40:64], small[::-1][:24, :64])  # mirrored
    resized = conv.tile_image(small, 64, 'resize')  # 40x100 -> 64x160
    assert [(y, x) for y, x, _ in resized] == [(0, 0), (0, 48), (0, 96)]


def test_split_rule():
    srcs = [f'm{i}.png' for i in range(10)]
    a = conv.split_sources(srcs, 'steel', 0, 0.2, 0.1)
    assert [len(a[s]) for s in ('train', 'val', 'test')] == [7, 2, 1]
    assert a == conv.split_sources(srcs[::-1], 'steel', 0, 0.2, 0.1)  # order-independent
    assert sorted(sum(a.values(), [])) == sorted(srcs)
    assert conv.split_sources(['a', 'b', 'c'], 'x', 0, 0.1, 0.1)['train']  # train kept
    assert [len(v) for v in conv.split_sources(['a'], 'x', 0, .1, .1).values()] == [0, 0, 1]


def _raw_tree(root, corrupt=False):
    for c, cls in enumerate(('alloy', 'ceramic')):
        d = root / cls
        d.mkdir(parents=True)
        for i in range(6):
            img = _micrograph(64, 100, seed=10 * c + i)
            if i % 2:
                img = _with_bar(img, 16)  # 80 x 100, bar stripped back to 64 x 100
            cv2.imwrite(str(d / f'im{i}.png'), img)
    if corrupt:
        (root / 'alloy' / 'broken.png').write_bytes(b'\x89PNG not really')


def _cli(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_cli_layout_determinism_no_leakage(tmp_path):
    _raw_tree(tmp_path / 'raw')
    outs = []
    for name, seed in (('a', 0), ('b', 0), ('c', 1)):
        r = _cli(tmp_path / 'raw', '-o', tmp_path / name, '--tile', 64, '--seed', seed,
                 '--val', 0.2, '--test', 0.2)
        assert r.returncode == 0, r.stderr
        outs.append(tmp_path / name)
    print(r.stdout)
    assert 'total' in r.stdout and 'alloy' in r.stdout
    a, b, c = outs
    assert (a / 'meta/classes.txt').read_text() == 'alloy\nceramic\n'
    for f in ('train.txt', 'val.txt', 'test.txt', 'sources.txt'):
        assert (a / 'meta' / f).read_text() == (b / 'meta' / f).read_text()  # same seed
    assert (a / 'meta/sources.txt').read_text() != (c / 'meta/sources.txt').read_text()
    rows = [line.split() for line in (a / 'meta/sources.txt').read_text().splitlines()]
    assert len(rows) == 12 and len({r[2] for r in rows}) == 12  # each source in one split only
    assert {int(r[4]) for r in rows if r[2].endswith(('1.png', '3.png', '5.png'))} == {16}
    assert {int(r[4]) for r in rows if r[2].endswith(('0.png', '2.png', '4.png'))} == {0}
    split_of = {}
    for split in ('train', 'val', 'test'):
        for line in (a / 'meta' / f'{split}.txt').read_text().splitlines():
            path, label = line.rsplit(' ', 1)
            assert (a / path).is_file() and path.startswith(f'{split}/')
            assert int(label) == ['alloy', 'ceramic'].index(path.split('/')[1])
            src = path.split('/')[1] + '/' + path.split('/')[2].rsplit('_y', 1)[0]
            assert split_of.setdefault(src, split) == split  # no leakage across splits
            tile = cv2.imread(str(a / path), cv2.IMREAD_UNCHANGED)
            assert tile.shape == (64, 64) and (tile <= 25).mean() < 0.2  # no bar left
    assert len(split_of) == 12
    # 64 x 100 -> tiles at x = 0, 36 -> 2 tiles per source
    assert sum(len((a / 'meta' / f'{s}.txt').read_text().splitlines())
               for s in ('train', 'val', 'test')) == 24
    # existing output refused without --overwrite
    r = _cli(tmp_path / 'raw', '-o', a, '--tile', 64)
    assert r.returncode == 1 and '--overwrite' in r.stderr


def test_cli_corrupt_file(tmp_path):
    _raw_tree(tmp_path / 'raw', corrupt=True)
    r = _cli(tmp_path / 'raw', '-o', tmp_path / 'out', '--tile', 64)
    assert r.returncode == 1 and 'broken.png' in r.stderr
    assert not (tmp_path / 'out').exists()  # nothing written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.out.')]  # temp removed
    r = _cli(tmp_path / 'raw', '-o', tmp_path / 'out', '--tile', 64, '--skip-bad')
    assert r.returncode == 0 and 'broken.png' in r.stderr and '1 unreadable' in r.stdout
    lines = (tmp_path / 'out/meta/sources.txt').read_text()
    assert 'broken' not in lines and len(lines.splitlines()) == 12
