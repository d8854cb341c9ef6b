"""Synthetic micrographs: determinism, labels, class fractions, contrast, files on disk, CLI."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.datasets.synthetic import PARTS, generate_dataset, make_sample

REPO_ROOT = Path(__file__).resolve().parents[2]


def _robust_std(values):
    values = values.astype(float)
    return 1.4826 * np.median(np.abs(values - np.median(values)))


def _fractions(mask):
    return np.bincount(mask.ravel(), minlength=3)[:3] / mask.size


@pytest.mark.parametrize('material', ['super', 'ebc'])
def test_make_sample_deterministic_and_typed(material):
    img1, mask1 = make_sample(material, (96, 160), np.random.default_rng(7))
    img2, mask2 = make_sample(material, (96, 160), np.random.default_rng(7))
    img3, _ = make_sample(material, (96, 160), np.random.default_rng(8))
    assert img1.shape == mask1.shape == (96, 160)  # (height, width)
    assert img1.dtype == mask1.dtype == np.uint8
    np.testing.assert_array_equal(img1, img2)
    np.testing.assert_array_equal(mask1, mask2)
    assert not np.array_equal(img1, img3)
    # an int seed is the same as a generator seeded with it
    img4, mask4 = make_sample(material, (96, 160), 7)
    np.testing.assert_array_equal(img1, img4)
    np.testing.assert_array_equal(mask1, mask4)


def test_super_labels_fractions_contrast():
    for seed in range(4):
        img, mask = make_sample('super', (256, 256), np.random.default_rng(seed))
        assert set(np.unique(mask)) == {0, 1, 2}
        matrix, secondary, tertiary = _fractions(mask)
        assert 0.35 < matrix < 0.85
        assert 0.15 < secondary < 0.6
        assert 0.005 < tertiary < 0.15
        # tertiary particles are small: many connected components, each far smaller than a
        # secondary one
        n_sec, _, sec_stats, _ = cv2.connectedComponentsWithStats((mask == 1).astype(np.uint8))
        n_ter, _, ter_stats, _ = cv2.connectedComponentsWithStats((mask == 2).astype(np.uint8))
        assert n_ter - 1 > 10
        assert np.median(ter_stats[1:, cv2.CC_STAT_AREA]) * 10 < np.median(
            sec_stats[1:, cv2.CC_STAT_AREA])
        # learnable: class means well apart compared with the pixel noise
        means = [img[mask == c].astype(float).mean() for c in range(3)]
        noise = _robust_std(img[mask == 0])
        assert means[1] - means[2] > 2 * noise
        assert means[2] - means[0] > 2 * noise


def test_ebc_labels_fractions_contrast():
    seen_crack = False
    for seed in range(8):
        img, mask = make_sample('ebc', (256, 256), np.random.default_rng(seed))
        labels = set(np.unique(mask))
        assert {0, 1} <= labels <= {0, 1, 2}
        background, oxide, crack = _fractions(mask)
        assert 0.5 < background < 0.97
        assert 0.02 < oxide < 0.4
        assert crack < 0.05
        # layered: oxide in every column, coating (0) on top, substrate (0) at the bottom
        assert ((mask == 1).any(axis=0)).all()
        assert (mask[0] == 0).all() and (mask[-1] == 0).all()
        if 2 in labels:
            seen_crack = True
            # cracks lie inside the oxide layer: between its top and bottom in each column
            oxide_or_crack = mask > 0
            for x in np.flatnonzero((mask == 2).any(axis=0)):
                rows = np.flatnonzero(oxide_or_crack[:, x])
                crack_rows = np.flatnonzero(mask[:, x] == 2)
                assert rows.min() <= crack_rows.min() and crack_rows.max() <= rows.max()
        # oxide is darker than coating and substrate (both label 0), cracks darker still
        ox = img[mask == 1].astype(float)
        assert img[mask == 0].astype(float).mean() - ox.mean() > 2 * _robust_std(ox)
        if 2 in labels:
            assert img[mask == 2].astype(float).mean() < ox.mean()
    assert seen_crack


@pytest.mark.parametrize('material', ['super', 'ebc'])
def test_full_size_non_square(material):
    # NASA's Super micrographs are 512x512; a non-square size checks (height, width) order.
    # (How long generation takes is not a test's business on a shared CI machine.)
    image, mask = make_sample(material, (512, 384), np.random.default_rng(1))
    assert image.shape == mask.shape == (512, 384)
    assert image.dtype == mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1, 2} and {0, 1} <= set(np.unique(mask))


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        make_sample('steel', (64, 64), 0)
    with pytest.raises(ValueError):
        make_sample('super', (16, 64), 0)
    with pytest.raises(ValueError):
        generate_dataset(tmp_path, material='steel')
    with pytest.raises(ValueError):
        generate_dataset(tmp_path, num_train=-1)


def _tree_bytes(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob('*') if p.is_file()}


@pytest.mark.parametrize('material', ['super', 'ebc'])
def test_generate_dataset_layout(tmp_path, material):
    root = generate_dataset(tmp_path / 'a', material=material, num_train=3, num_val=2,
                            num_test=1, size=(64, 96), seed=5)
    assert root == tmp_path / 'a' / f'synthetic_{material}'
    counts = dict(train=3, val=2, test=1)
    for part in PARTS:
        stems = (root / 'splits' / f'{part}.txt').read_text().splitlines()
        assert len(stems) == counts[part] and len(set(stems)) == len(stems)
        assert sorted(p.stem for p in (root / 'img_dir' / part).iterdir()) == sorted(stems)
        for stem in stems:
            img = cv2.imread(str(root / 'img_dir' / part / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
            mask = cv2.imread(str(root / 'ann_dir' / part / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
            assert img.shape == mask.shape == (64, 96)  # single channel
            assert img.dtype == mask.dtype == np.uint8
            assert set(np.unique(mask)) <= {0, 1, 2} and 1 in mask
    # no temporary files left behind
    assert not [p for p in root.rglob('*') if p.name.startswith('.') or p.suffix == '.tmp']

    # deterministic for a seed, different for another seed
    same = generate_dataset(tmp_path / 'b', material=material, num_train=3, num_val=2,
                            num_test=1, size=(64, 96), seed=5)
    assert _tree_bytes(root) == _tree_bytes(same)
    other = generate_dataset(tmp_path / 'c', material=material, num_train=3, num_val=2,
                             num_test=1, size=(64, 96), seed=6)
    assert _tree_bytes(root) != _tree_bytes(other)
    # a sample does not depend on the size of the other parts
    fewer = generate_dataset(tmp_path / 'd', material=material, num_train=1, num_val=0,
                             num_test=1, size=(64, 96), seed=5, name='x')
    stem = f'{material}_test_0000'
    assert (fewer / 'img_dir/test' / f'{stem}.png').read_bytes() == \
        (root / 'img_dir/test' / f'{stem}.png').read_bytes()
    assert (fewer / 'splits/val.txt').read_text() == ''


def test_cli(tmp_path):
    path = REPO_ROOT / 'tools' / 'dataset_converters' / 'synthetic_micrographs.py'
    spec = importlib.util.spec_from_file_location('synthetic_micrographs_cli', path)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    assert cli.main([str(tmp_path), '--material', 'ebc', '--num-train', '2', '--num-val', '1',
                     '--num-test', '1', '--size', '48', '80', '--seed', '3']) == 0
    root = tmp_path / 'synthetic_ebc'
    assert (root / 'splits' / 'train.txt').read_text().split() == ['ebc_train_0000',
                                                                   'ebc_train_0001']
    img = cv2.imread(str(root / 'img_dir/val/ebc_val_0000.png'), cv2.IMREAD_UNCHANGED)
    assert img.shape == (48, 80)
    api = generate_dataset(tmp_path / 'api', material='ebc', num_train=2, num_val=1, num_test=1,
                           size=(48, 80), seed=3)
    assert _tree_bytes(api) == _tree_bytes(root)
