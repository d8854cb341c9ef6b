"""Tests of csunet.datasets.nasa_encoding: image normalisation, Super/EBC mask decoding, TIFF
reading errors; plus hand-decoded pixels of real benchmark masks (skipped without the data)."""
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.datasets import nasa_encoding as enc

DATA = Path(__file__).resolve().parents[2].parent / 'shared/data/nasa_benchmark'
SRC = DATA / 'benchmark_segmentation_data'


def _real(rel):
    if not SRC.is_dir():
        pytest.skip(f'NASA benchmark not found at {SRC}')
    return SRC / rel


# ------------------------------------------------------------------------------- images
def test_image_uint8_equal_rgb_becomes_grey():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = enc.image_to_uint8(np.stack([grey] * 3, -1))
    assert out.shape == (3, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, grey)


def test_image_uint16_full_range_linear_scaling():
    vals = np.array([[0, 128, 129, 257, 32768, 65535]], np.uint16)
    out = enc.image_to_uint8(np.stack([vals] * 3, -1))
    np.testing.assert_array_equal(out, [[0, 0, 1, 1, 128, 255]])
    # the same for every image: no per-image min/max stretch
    narrow = np.full((2, 2), 1000, np.uint16)
    assert enc.image_to_uint8(narrow).max() == 4  # round(1000 / 257)


def test_image_rgba_drops_alpha_and_colour_stays_rgb():
    rgb = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.zeros((4, 5, 1), np.uint8)], -1)
    out = enc.image_to_uint8(rgba)
    assert out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out, rgb)
    grey_rgba = np.concatenate([np.stack([rgb[..., 0]] * 3, -1), rgba[..., 3:]], -1)
    assert enc.image_to_uint8(grey_rgba).shape == (4, 5)


@pytest.mark.parametrize('arr, reason', [
    (np.zeros((4, 4), np.float32), 'unsupported dtype float32'),
    (np.zeros((4, 4), np.int16), 'unsupported dtype int16'),
    (np.zeros((2, 4, 4, 3), np.uint8), 'unsupported shape'),
    (np.zeros((4, 4, 5), np.uint8), 'unsupported shape'),
])
def test_image_bad_inputs(arr, reason):
    with pytest.raises(enc.EncodingError, match=reason):
        enc.image_to_uint8(arr)


# ---------------------------------------------------------------------------- Super masks
def _super_overlay(dtype):
    vmax = np.iinfo(dtype).max
    m = np.zeros((3, 4, 4), dtype)
    m[..., 3] = vmax
    m[0, 0, :3] = (0, 0, vmax)  # secondary
    m[0, 1, :3] = (vmax, 0, 0)  # tertiary
    m[1, 0, :3] = (7, 7, 7)  # grey -> matrix
    m[1, 1, :3] = (vmax, vmax, vmax)  # white -> matrix
    m[2, 3, :3] = (0, 0, vmax)
    return m


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
def test_decode_super_mask(dtype):
    out = enc.decode_super_mask(_super_overlay(dtype))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]])
    # RGB (no alpha) works too
    np.testing.assert_array_equal(enc.decode_super_mask(_super_overlay(dtype)[..., :3]), out)


def test_decode_super_mask_bad_colour_reports_pixel_and_colour():
    m = _super_overlay(np.uint8)
    m[2, 1, :3] = (0, 255, 0)
    m[2, 2, :3] = (0, 0, 254)  # almost blue
    with pytest.raises(enc.EncodingError) as err:
        enc.decode_super_mask(m)
    msg = str(err.value)
    assert 'colours outside the encoding' in msg and '2 pixels' in msg
    assert '(y=2, x=1)' in msg and '(0, 255, 0)' in msg and '(0, 0, 254)' in msg


def test_decode_super_mask_uint16_blue_needs_65535():
    m = _super_overlay(np.uint16)
    m[0, 0, :3] = (0, 0, 255)  # uint8 blue in a uint16 overlay is not blue
    with pytest.raises(enc.EncodingError, match=r'\(0, 0, 255\)'):
        enc.decode_super_mask(m)


def test_decode_super_mask_alpha_and_shape_errors():
    m = _super_overlay(np.uint8)
    m[1, 2, 3] = 0
    with pytest.raises(enc.EncodingError, match='alpha not opaque'):
        enc.decode_super_mask(m)
    with pytest.raises(enc.EncodingError, match='expected an RGBA or RGB overlay'):
        enc.decode_super_mask(np.zeros((4, 4), np.uint8))
    with pytest.raises(enc.EncodingError, match='unsupported dtype'):
        enc.decode_super_mask(np.zeros((4, 4, 4), np.float32))


# ------------------------------------------------------------------------------ EBC masks
def test_check_ebc_mask():
    m = np.array([[0, 1], [2, 1]], np.uint8)
    np.testing.assert_array_equal(enc.check_ebc_mask(m), m)
    np.testing.assert_array_equal(enc.check_ebc_mask(m[..., None]), m)
    bad = m.copy()
    bad[1, 0] = 5
    with pytest.raises(enc.EncodingError, match=r'values outside \{0, 1, 2\}: 5 x1.*y=1, x=0'):
        enc.check_ebc_mask(bad)
    with pytest.raises(enc.EncodingError, match='single-channel'):
        enc.check_ebc_mask(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(enc.EncodingError, match='uint8'):
        enc.check_ebc_mask(m.astype(np.uint16))


# ------------------------------------------------------------------------------- reading
def test_read_tiff_errors(tmp_path):
    good = tmp_path / 'good.tif'
    a = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    tifffile.imwrite(good, a, compression='zlib')
    np.testing.assert_array_equal(enc.read_tiff(str(good)), a)

    (tmp_path / 'empty.tif').write_bytes(b'')
    with pytest.raises(enc.EncodingError, match='empty file'):
        enc.read_tiff(str(tmp_path / 'empty.tif'))
    data = good.read_bytes()
    for n in (len(data) // 2, 60):
        (tmp_path / 'trunc.tif').write_bytes(data[:n])
        with pytest.raises(enc.EncodingError, match='truncated'):
            enc.read_tiff(str(tmp_path / 'trunc.tif'))
    (tmp_path / 'junk.tif').write_bytes(b'this is not a tiff file at all')
    with pytest.raises(enc.EncodingError, match='unreadable'):
        enc.read_tiff(str(tmp_path / 'junk.tif'))
    with pytest.raises(enc.EncodingError, match='unreadable file'):
        enc.read_tiff(str(tmp_path / 'missing.tif'))


def test_hashes():
    a = np.arange(6, dtype=np.uint8)
    assert enc.pixels_sha256(a) == enc.pixels_sha256(a.reshape(2, 3))
    assert enc.content_key(a) != enc.content_key(a.reshape(2, 3))
    assert enc.content_key(a) != enc.content_key(a.view(np.int8))
    assert enc.image_mask_shape_error((4, 5, 3), (4, 5, 4)) is None
    assert 'differs' in enc.image_mask_shape_error((4, 5), (5, 4, 4))


# ------------------------------------------------------------------------------ real data
@pytest.mark.parametrize('rel, pixels', [
    # (y, x): (raw RGBA read from the file, expected index)
    ('Super1/train_annot/spot3_0d_3_mask.tif', {
        (212, 79): ([0, 0, 255, 255], 1),
        (84, 205): ([255, 0, 0, 255], 2),
        (132, 84): ([140, 140, 140, 255], 0)}),
    ('Super4/test_annot/45kx_SE_15kV-etched_0_mask.tif', {  # uint16 overlay
        (175, 127): ([0, 0, 65535, 65535], 1),
        (110, 49): ([65535, 0, 0, 65535], 2),
        (167, 209): ([45325, 45325, 45325, 65535], 0)}),
])
def test_real_super_mask_pixels(rel, pixels):
    path = _real(rel)
    raw = tifffile.imread(path)
    index = enc.decode_super_mask(enc.read_tiff(str(path)))
    assert index.shape == (512, 512)
    for (y, x), (rgba, label) in pixels.items():
        assert raw[y, x].tolist() == rgba
        assert index[y, x] == label
    # every pixel hand-decoded the simple way agrees
    vmax = np.iinfo(raw.dtype).max
    blue = (raw[..., 0] == 0) & (raw[..., 1] == 0) & (raw[..., 2] == vmax)
    red = (raw[..., 0] == vmax) & (raw[..., 1] == 0) & (raw[..., 2] == 0)
    np.testing.assert_array_equal(index == 1, blue)
    np.testing.assert_array_equal(index == 2, red)


def test_real_ebc_mask_pixels_and_manifest():
    rel = 'EBC1/train_annot/010417#4_S2480009.tif'
    path = _real(rel)
    raw = tifffile.imread(path)
    m = enc.check_ebc_mask(enc.read_tiff(str(path)))
    for (y, x), v in {(453, 3): 0, (667, 301): 1, (690, 885): 2}.items():
        assert raw[y, x] == v and m[y, x] == v
    assert enc.class_pixel_counts(m, 3) == {0: 927750, 1: 118956, 2: 1870}
    manifest = json.loads((DATA / 'MANIFEST.json').read_text())
    assert enc.pixels_sha256(m) == manifest[rel]['pixels_sha256']


def test_real_uint16_image_scaling():
    path = _real('Super4/test/45kx_SE_15kV-etched_0.tif')
    raw = tifffile.imread(path)
    assert raw.dtype == np.uint16
    out = enc.image_to_uint8(raw)
    assert out.shape == (512, 512) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.round(raw[..., 0] / 257.0).astype(np.uint8))
