"""csunet.datasets.unlabelled (tools/dataset_converters/unlabelled.py): a pretraining pool that
leaves out every image whose pixels equal a test image's, under any name or format."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from csunet.datasets.unlabelled import PoolError, build_pool, content_key, find_images, read_grey

REPO = Path(__file__).resolve().parents[2]
NASA = REPO.parent / 'shared' / 'data' / 'nasa_benchmark' / 'benchmark_segmentation_data'


def _image(seed, shape=(300, 520)):
    return np.random.default_rng(seed).integers(20, 230, shape, dtype=np.uint8)


def test_pool_excludes_test_content_and_repeats_whatever_the_name(tmp_path):
    src, test = tmp_path / 'src', tmp_path / 'test'
    (src / 'a').mkdir(parents=True)
    (src / 'b').mkdir()
    test.mkdir()
    keep, held_out = _image(0), _image(1)
    cv2.imwrite(str(src / 'a' / 'keep.png'), keep)
    # the same pixels as a 16-bit TIFF under another name: a repeat, pooled once
    tifffile.imwrite(str(src / 'b' / 'keep_copy.tif'), keep.astype(np.uint16) * 257)
    # a test image, also present in the source folder under another name and format
    cv2.imwrite(str(test / 'x.png'), held_out)
    cv2.imwrite(str(src / 'b' / 'renamed.png'), held_out)
    # a small image with a data bar (saturated rows at the bottom)
    small = _image(2, (200, 150))
    small[-20:] = 0
    small[-15:-5, 10:100] = 255
    cv2.imwrite(str(src / 'a' / 'small.png'), small)
    (src / 'a' / 'broken.png').write_bytes(b'not an image')

    out = tmp_path / 'pool'
    stats = build_pool([str(src)], str(out), exclude=[str(test)], tile=256)
    assert (stats['sources'], stats['used'], stats['excluded'], stats['repeats']) == (5, 2, 1, 1)
    assert [p for p, _ in stats['unreadable']] == [str(src / 'a' / 'broken.png')]
    pool = (out / 'meta/pool.txt').read_text().split()
    # 300 x 520 -> 2 x 3 tiles of 256 (evenly overlapping); 180 x 150 (bar cut) -> 1, padded
    assert stats['tiles'] == len(pool) == 7
    tiles = [cv2.imread(str(out / p), cv2.IMREAD_UNCHANGED) for p in pool]
    assert all(t.shape == (256, 256) for t in tiles)
    assert 'images/a_keep_y44_x264.png' in pool  # path below the source folder, y, x
    sources = (out / 'meta/sources.txt').read_text().splitlines()
    assert any(line.startswith(f"{src / 'a' / 'small.png'} 1 20 ") for line in sources)
    excluded = (out / 'meta/excluded.txt').read_text()
    assert f"{src / 'b' / 'renamed.png'} identical to excluded {test / 'x.png'}" in excluded
    assert f"{src / 'b' / 'keep_copy.tif'} repeats {src / 'a' / 'keep.png'}" in excluded
    # no tile of the pool comes from the held-out image: its pixels are not in any tile
    assert not any(np.array_equal(t, held_out[:256, :256]) for t in tiles)
    assert content_key(read_grey(str(src / 'b' / 'keep_copy.tif'))) == content_key(keep)

    # An existing pool is kept unless overwrite; an unreadable exclusion is an error, not a skip.
    with pytest.raises(PoolError, match='exists and is not empty'):
        build_pool([str(src)], str(out), exclude=[str(test)], tile=256)
    (test / 'bad.tif').write_bytes(b'II*\x00junk')
    with pytest.raises(PoolError, match='excluded image .*bad.tif cannot be read'):
        build_pool([str(src)], str(out), exclude=[str(test)], tile=256, overwrite=True)
    assert (out / 'meta/pool.txt').read_text().split() == pool  # untouched
    with pytest.raises(PoolError, match='no such file'):
        find_images([str(tmp_path / 'nope')])


def test_command_line(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), _image(3, (64, 64)))
    tool = REPO / 'tools/dataset_converters/unlabelled.py'
    proc = subprocess.run([sys.executable, str(tool), str(tmp_path / 'a.png'), '-o',
                           str(tmp_path / 'pool'), '--tile', '32'], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert '1 files: 1 pooled as 4 tiles of 32 px' in proc.stdout
    proc = subprocess.run([sys.executable, str(tool), str(tmp_path / 'a.png'), '-o',
                           str(tmp_path / 'pool2'), '--exclude', str(tmp_path / 'a.png')],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and 'no image left for the pool' in proc.stderr
    assert not (tmp_path / 'pool2').exists()


@pytest.mark.skipif(not NASA.is_dir(), reason=f'NASA benchmark data not found at {NASA}')
def test_ebc1_pool_shares_no_image_with_the_ebc_test_sets(tmp_path):
    """The pool an EBC-1 experiment would pretrain on, from every EBC micrograph folder, holds no
    image pixel-identical to an EBC-1/2/3 test image, although EBC-3's training folder repeats
    EBC-1's test images under the same names."""
    folders = [NASA / s / p for s in ('EBC1', 'EBC2', 'EBC3') for p in ('train', 'val', 'test')]
    tests = [NASA / s / 'test' for s in ('EBC1', 'EBC2', 'EBC3')]
    stats = build_pool([str(f) for f in folders], str(tmp_path / 'pool'),
                       exclude=[str(t) for t in tests], tile=512)
    test_keys = {content_key(read_grey(p)) for p in find_images([str(t) for t in tests])}
    pooled = [line.split() for line in (tmp_path / 'pool/meta/sources.txt').read_text()
              .splitlines()]
    assert stats['used'] == len(pooled) > 0
    assert not {key for *_, key in pooled} & test_keys
    # recomputed from the files, not only the recorded keys
    assert not {content_key(read_grey(p)) for p, *_ in pooled} & test_keys
    excluded = (tmp_path / 'pool/meta/excluded.txt').read_text().splitlines()
    assert any('/EBC3/train/' in line and 'identical to excluded' in line and '/EBC1/test/' in line
               for line in excluded)


def test_held_out_images_are_whole_sources(tmp_path):
    """meta/val.txt holds every tile of the held-out images and nothing else; train + val =
    pool; the held-out indices are spread and never all."""
    from csunet.datasets.unlabelled import held_out_indices
    assert held_out_indices(10, 0.1) == [4]
    assert held_out_indices(1, 0.5) == [] and held_out_indices(2, 0.9) == [0]  # never all
    assert held_out_indices(20, 0.) == [] and held_out_indices(20, 0.25) == [3, 6, 10, 13, 16]
    with pytest.raises(PoolError, match='val_fraction'):
        held_out_indices(5, 1.0)
    src = tmp_path / 'src'
    src.mkdir()
    for i in range(6):
        cv2.imwrite(str(src / f'im{i}.png'), _image(10 + i, (300, 300)))  # 2 x 2 tiles of 256
    out = tmp_path / 'pool'
    stats = build_pool([str(src)], str(out), tile=256, val_fraction=0.3)
    meta = {n: (out / f'meta/{n}.txt').read_text().split() for n in ('pool', 'train', 'val')}
    assert stats['val_tiles'] == len(meta['val']) == 8  # round(6 * 0.3) = 2 images x 4 tiles
    assert sorted(meta['train'] + meta['val']) == sorted(meta['pool'])
    held = {p.split('_y')[0] for p in meta['val']}
    assert len(held) == 2 and not any(p.split('_y')[0] in held for p in meta['train'])
    with pytest.raises(PoolError, match='val_fraction'):
        build_pool([str(src)], str(tmp_path / 'p2'), val_fraction=1.5)
    assert not (tmp_path / 'p2').exists()
