"""csunet.analysis.io: formats, 8/16-bit conversion, refusals with reasons, calibration."""
import cv2
import numpy as np
import pytest
import tifffile

from csunet.analysis import io as aio


def _grey(h=20, w=30):
    return (np.arange(h * w) % 256).astype(np.uint8).reshape(h, w)


def test_formats_and_16bit_scaling(tmp_path):
    g = _grey()
    cv2.imwrite(str(tmp_path / 'g.png'), g)
    cv2.imwrite(str(tmp_path / 'g16.png'), g.astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / 'g.jpg'), g, [cv2.IMWRITE_JPEG_QUALITY, 100])
    tifffile.imwrite(tmp_path / 'g16.tif', g.astype(np.uint16) * 257)
    rgb = np.stack([g, 255 - g, g // 2], axis=2)
    tifffile.imwrite(tmp_path / 'rgb.tif', rgb, photometric='rgb')
    cv2.imwrite(str(tmp_path / 'rgba.png'), np.dstack([rgb[..., ::-1], np.full_like(g, 255)]))
    for name in ('g.png', 'g16.png', 'g16.tif'):
        out = aio.read_micrograph(str(tmp_path / name))
        assert out.dtype == np.uint8 and np.array_equal(out, g), name
    assert np.abs(aio.read_micrograph(str(tmp_path / 'g.jpg')).astype(int) - g).max() <= 3
    for name in ('rgb.tif', 'rgba.png'):
        assert np.array_equal(aio.read_micrograph(str(tmp_path / name)), rgb), name
    # model input: grey replicated, RGB -> BGR (what LoadImageFromFile gives)
    assert np.array_equal(aio.to_model_input(g)[..., 2], g)
    assert np.array_equal(aio.to_model_input(rgb), rgb[..., ::-1])


def test_stretch_uses_percentiles(tmp_path):
    g12 = (np.linspace(0, 4095, 400).reshape(20, 20)).astype(np.uint16)  # 12-bit in 16-bit
    tifffile.imwrite(tmp_path / 'a.tif', g12)
    assert aio.read_micrograph(str(tmp_path / 'a.tif')).max() == 16  # 4095 / 257
    s = aio.read_micrograph(str(tmp_path / 'a.tif'), intensity='stretch')
    assert s.min() == 0 and s.max() == 255


@pytest.mark.parametrize('make, reason', [
    (lambda p: tifffile.imwrite(p, np.zeros((3, 16, 16), np.uint8), photometric='minisblack'),
     'multi-page TIFF \\(3 pages\\)'),
    (lambda p: open(p, 'wb').close(), 'empty file'),
    (lambda p: open(p, 'wb').write(b'not a tiff at all'), 'unreadable'),
    (lambda p: tifffile.imwrite(p, np.zeros((8, 8), np.float32)), 'unsupported pixel type'),
])
def test_bad_tiffs_are_refused_with_reason(tmp_path, make, reason):
    path = tmp_path / 'bad.tif'
    make(str(path))
    with pytest.raises(aio.InputError, match=reason):
        aio.read_micrograph(str(path))


def test_bad_png_and_extension(tmp_path):
    (tmp_path / 'x.png').write_bytes(b'\x89PNG garbage')
    with pytest.raises(aio.InputError, match='not a readable PNG'):
        aio.read_micrograph(str(tmp_path / 'x.png'))
    (tmp_path / 'x.bmp').write_bytes(b'BM')
    with pytest.raises(aio.InputError, match='unsupported file type'):
        aio.read_micrograph(str(tmp_path / 'x.bmp'))
    # a thumbnail page (reduced resolution) is not a second image
    with tifffile.TiffWriter(tmp_path / 't.tif') as tif:
        tif.write(_grey())
        tif.write(_grey(5, 8), subfiletype=1)
    assert aio.read_micrograph(str(tmp_path / 't.tif')).shape == (20, 30)


def test_calibration_sources(tmp_path):
    g = _grey()
    # resolution tags: 1e5 pixels per cm = 100 nm per pixel
    tifffile.imwrite(tmp_path / 'res.tif', g, resolution=(1e5, 1e5), resolutionunit='CENTIMETER')
    metres, source = aio.tiff_calibration(str(tmp_path / 'res.tif'))
    assert metres == pytest.approx(1e-7) and 'resolution tags' in source
    # 72 dpi: an imaging-software default, not a calibration
    tifffile.imwrite(tmp_path / 'dpi.tif', g, resolution=(72, 72), resolutionunit='INCH')
    assert aio.tiff_calibration(str(tmp_path / 'dpi.tif')) is None
    tifffile.imwrite(tmp_path / 'none.tif', g)
    assert aio.tiff_calibration(str(tmp_path / 'none.tif')) is None
    # FEI/Thermo (Helios tag 34682, INI text, metres)
    fei = '[User]\nDate=01/01/2026\n[Scan]\nPixelWidth=2.5e-09\nPixelHeight=2.5e-09\n'
    tifffile.imwrite(tmp_path / 'fei.tif', g, extratags=[(34682, 's', 0, fei, True)])
    metres, source = aio.tiff_calibration(str(tmp_path / 'fei.tif'))
    assert metres == pytest.approx(2.5e-9) and 'FEI' in source
    # Zeiss SEM (tag 34118)
    zeiss = '\nAP_IMAGE_PIXEL_SIZE\nImage Pixel Size = 12.5 nm\nAP_WD\nWD = 5.0 mm\n'
    tifffile.imwrite(tmp_path / 'zeiss.tif', g, extratags=[(34118, 's', 0, zeiss, True)])
    metres, source = aio.tiff_calibration(str(tmp_path / 'zeiss.tif'))
    assert metres == pytest.approx(12.5e-9) and 'Zeiss' in source
    # ImageJ: unit in the description, pixels per unit in XResolution
    tifffile.imwrite(tmp_path / 'ij.tif', g, imagej=True, resolution=(4.0, 4.0),
                     metadata={'unit': 'micron'})
    metres, source = aio.tiff_calibration(str(tmp_path / 'ij.tif'))
    assert metres == pytest.approx(0.25e-6) and 'ImageJ' in source
    cal = aio.Calibration.from_metres(2.5e-9, 'nm', 'x')
    assert cal.pixel_size == pytest.approx(2.5) and cal.unit == 'nm'


def test_label_masks(tmp_path):
    from csunet.datasets.nasa_encoding import SUPER_PALETTE
    idx = np.zeros((10, 12), np.uint8)
    idx[2:4, 2:5] = 1
    idx[6:8, 6:9] = 2
    cv2.imwrite(str(tmp_path / 'idx.png'), idx)
    assert np.array_equal(aio.read_label_mask(str(tmp_path / 'idx.png'), 3), idx)
    # NASA Super overlay: RGBA, blue = secondary, red = tertiary, grey = matrix
    grey = np.full((10, 12, 3), 77, np.uint8)
    over = np.where(idx[..., None] == 1, np.array([0, 0, 255], np.uint8), grey)
    over = np.where(idx[..., None] == 2, np.array([255, 0, 0], np.uint8), over)
    rgba = np.dstack([over, np.full((10, 12), 255, np.uint8)])
    tifffile.imwrite(tmp_path / 'super.tif', rgba, photometric='rgb', extrasamples=[2])
    cv2.imwrite(str(tmp_path / 'super.png'), rgba[..., [2, 1, 0, 3]])  # BGRA on disk
    for name in ('super.tif', 'super.png'):
        assert np.array_equal(
            aio.read_label_mask(str(tmp_path / name), 3, decode_super=True), idx), name
    with pytest.raises(aio.InputError, match='one-channel index mask'):
        aio.read_label_mask(str(tmp_path / 'super.tif'), 3)
    idx[0, 0] = 7
    cv2.imwrite(str(tmp_path / 'bad.png'), idx)
    with pytest.raises(aio.InputError, match=r'values \[7\] outside the classes 0..2'):
        aio.read_label_mask(str(tmp_path / 'bad.png'), 3)
    assert SUPER_PALETTE[1] == [0, 0, 255]


def test_collect_inputs(tmp_path):
    (tmp_path / 'in' / 'sub').mkdir(parents=True)
    (tmp_path / 'in' / 'out').mkdir()
    for rel in ('a.png', 'sub/b.TIF', 'notes.txt', 'out/c.png'):
        (tmp_path / 'in' / rel).write_bytes(b'x')
    found, missing = aio.collect_inputs(
        [str(tmp_path / 'in'), str(tmp_path / 'nope.png'), str(tmp_path / 'in' / 'notes.txt')],
        exclude=str(tmp_path / 'in' / 'out'))
    assert [n for _, n in found] == ['a', 'sub/b', 'notes']
    assert missing == [(str(tmp_path / 'nope.png'), 'no such file or folder')]
