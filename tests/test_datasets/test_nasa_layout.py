"""csunet.datasets.nasa_layout: pairing, de-duplication, bad files and split assembly of the NASA
converter, on plain files (no decoding)."""
import os

import pytest

from csunet.datasets import nasa_layout as layout
from csunet.datasets.nasa_layout import Pair


def _touch(path, data=b'x'):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def src(tmp_path):
    s = tmp_path / 'src'
    _touch(s / 'Super1/train/a.tif', b'img-a')
    _touch(s / 'Super1/train_annot/a_mask.tif', b'mask-a')
    _touch(s / 'Super1/train_annot/b.tif')  # Super mask without the _mask suffix
    _touch(s / 'Super1/train/c.TIFF', b'img-c')  # image without mask
    _touch(s / 'Super1/train/notes.txt')  # not a TIFF
    _touch(s / 'Super1/train/.hidden.tif')  # hidden: skipped silently
    _touch(s / 'Super1/odd/o.tif', b'img-o')  # unknown part: sorted after the known ones
    _touch(s / 'Super1/odd_annot/o_mask.tif', b'mask-o')
    _touch(s / 'Super1/val/v.tif', b'img-a')  # same bytes as a.tif
    _touch(s / 'Super1/val_annot/v_mask.tif', b'mask-a')
    _touch(s / 'EBC3/train/e2.tif', b'e2')
    _touch(s / 'EBC3/train_annot/e2.tif', b'm2')
    _touch(s / 'EBC3/train/e1.tif', b'e1')
    _touch(s / 'EBC3/train_annot/e1.tif', b'm1')
    _touch(s / 'EBC3/test/t.tif', b't')
    _touch(s / 'EBC3/test_annot/t.tif', b'mt')
    return s


def test_scan_pairs_unpaired_ignored_missing(src):
    scan, missing = layout.scan_source(str(src))
    assert missing == ['Super2', 'Super3', 'Super4', 'EBC1', 'EBC2']
    got = [(p.source, p.part, p.stem) for p in scan.pairs]
    assert got == [('Super1', 'train', 'a'), ('Super1', 'val', 'v'), ('Super1', 'odd', 'o'),
                   ('EBC3', 'train', 'e1'), ('EBC3', 'train', 'e2'), ('EBC3', 'test', 't')]
    assert scan.pairs[0].mask == str(src / 'Super1/train_annot/a_mask.tif')
    assert sorted((os.path.basename(p), why) for p, why in scan.unpaired) == [
        ('b.tif', 'Super mask name lacks the _mask suffix'), ('c.TIFF', 'image without mask')]
    assert [(os.path.basename(p), why) for p, why in scan.ignored] == [
        ('notes.txt', 'not a TIFF file')]
    only, missing = layout.scan_source(str(src), {'EBC3', 'EBC1'})
    assert {p.source for p in only.pairs} == {'EBC3'} and missing == ['EBC1']


def test_part_order():
    parts = ['odd', 'test', 'different_test', 'val', 'train', 'abc']
    assert sorted(parts, key=layout.part_sort_key) == [
        'train', 'val', 'test', 'different_test', 'abc', 'odd']


def test_plan_decoding_groups_identical_content(src):
    scan, _ = layout.scan_source(str(src), {'Super1'})
    jobs, path_job = layout.plan_decoding(scan.pairs + scan.pairs[:1])  # a repeated pair
    a, v = scan.pairs[0], scan.pairs[1]
    assert path_job[a.img] == path_job[v.img] and path_job[a.mask] == path_job[v.mask]
    assert jobs[path_job[a.img]] == [a.img, v.img]  # decoded once, first path first
    assert path_job[a.img][0] == 'img' and path_job[a.mask][0] == 'super_ann'
    assert len(jobs) == 4  # a/v image, a/v mask, o image, o mask
    assert len(path_job) == 6


def test_plan_decoding_unreadable_is_its_own_job(tmp_path):
    p = Pair('EBC1', 'train', 's', str(tmp_path / 'gone.tif'), str(tmp_path / 'gone_m.tif'))
    jobs, path_job = layout.plan_decoding([p])
    assert path_job[p.img] == ('img', 'unreadable:' + p.img)
    assert path_job[p.mask] == ('ebc_ann', 'unreadable:' + p.mask)
    assert layout.file_sha256(p.img) is None


def _res(shape=(4, 4), sha='ab' * 32, error=None):
    return dict(error=error, shape=shape, dtype='uint8', pixels_sha256=sha, out='_files/x.png')


def test_bad_files_and_pair_checks(tmp_path):
    src = str(tmp_path)
    ok_img, ok_mask = _touch(tmp_path / 'S/train/a.tif'), _touch(tmp_path / 'S/train_annot/a.tif')
    small_mask = _touch(tmp_path / 'S/train_annot/b.tif')
    broken = _touch(tmp_path / 'S/train/c.tif')
    changed = _touch(tmp_path / 'S/train/d.tif')
    info = {ok_img: _res(), ok_mask: _res(), small_mask: _res((2, 2)),
            broken: _res(error='truncated TIFF'), changed: _res(sha='cd' * 32)}
    manifest = {'S/train/d.tif': dict(pixels_sha256='ab' * 32, shape=[4, 4], dtype='uint8'),
                'S/train/a.tif': dict(pixels_sha256='ab' * 32, shape=[4, 4], dtype='uint8')}
    bad = layout.find_bad_files(info, manifest, src)
    assert bad[broken] == 'truncated TIFF'
    assert bad[changed].startswith('pixels differ from MANIFEST.json (got uint8 (4, 4) sha256 '
                                   'cdcdcdcdcdcd..., expected uint8 (4, 4) abababababab...)')
    assert set(bad) == {broken, changed}
    assert layout.find_bad_files(info, None, src) == {broken: 'truncated TIFF'}

    pairs = [Pair('S', 'train', 'a', ok_img, ok_mask), Pair('S', 'train', 'b', ok_img, small_mask),
             Pair('S', 'train', 'c', broken, ok_mask)]
    good, bad_pairs = layout.check_pairs(pairs, info, bad)
    assert [p.stem for p in good] == ['a'] and [p.stem for p in bad_pairs] == ['b', 'c']
    assert bad[small_mask] == 'mask size 2x2 (HxW) differs from image size 4x4'  # recorded


def _pairs(source, part, *stems):
    return [Pair(source, part, s, f'{source}/{part}/{s}.tif', f'{source}/{part}_m/{s}.tif')
            for s in stems]


def test_assemble_splits_oneshot_and_missing_sources():
    good = (_pairs('EBC3', 'train', 'z2', 'z1', 'z3') + _pairs('EBC3', 'test', 't') +
            _pairs('Super1', 'val', 'v'))
    out = {'super1': 'Super1', 'super2': 'Super2', 'ebc3': 'EBC3', 'ebc3_heldout': 'EBC3'}
    splits, stem = layout.assemble_splits(good, out)
    assert list(splits) == ['super1', 'ebc3', 'ebc3_heldout']  # Super2 has no good pair
    assert stem == 'z1'  # first in sorted order, not in scan order
    assert [p.stem for p in splits['ebc3']['train']] == ['z1']
    assert [p.stem for p in splits['ebc3_heldout']['train']] == ['z2', 'z1', 'z3']
    assert [p.stem for p in splits['ebc3']['test']] == ['t']
    assert layout.assemble_splits(good, out, oneshot='z3')[1] == 'z3'
    with pytest.raises(layout.OneShotError, match=r"'nope' is not a good .*\['z1', 'z2', 'z3'\]"):
        layout.assemble_splits(good, out, oneshot='nope')
    with pytest.raises(layout.OneShotError, match='None'):  # EBC3 without training pairs
        layout.assemble_splits(_pairs('EBC3', 'test', 't'), out)
    assert layout.assemble_splits(good, {'super1': 'Super1'}) == (
        {'super1': {'val': _pairs('Super1', 'val', 'v')}}, None)


def test_referenced_outputs():
    a, b = _pairs('S', 'train', 'a', 'b')
    info = {a.img: dict(out='_files/img/1.png'), a.mask: dict(out='_files/ann/./2.png'),
            b.img: dict(out='_files/img/1.png'), b.mask: dict(out='_files/ann/3.png')}
    got = layout.referenced_outputs({'s': {'train': [a, b]}}, info)
    assert got == {'_files/img/1.png', '_files/ann/2.png', '_files/ann/3.png'}
