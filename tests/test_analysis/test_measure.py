"""csunet.analysis.measure against truth known by construction: discs of known radii,
rectangles, bands of known thickness, lines of known length, and the synthetic generator."""
import cv2
import numpy as np
import pytest

from csunet.analysis.measure import (IGNORE, class_roles, feret_diameters, local_thickness,
                                     measure_mask, measure_particles, skeleton_length)


def _disc(mask, cy, cx, r, value):
    yy, xx = np.mgrid[:mask.shape[0], :mask.shape[1]]
    mask[(yy - cy)**2 + (xx - cx)**2 <= r * r] = value


def test_discs_area_fraction_ecd_and_border_flags():
    mask = np.zeros((300, 400), np.uint8)
    radii = {(80, 80): 30, (80, 250): 20, (220, 150): 40}
    for (cy, cx), r in radii.items():
        _disc(mask, cy, cx, r, 1)
    _disc(mask, 220, 330, 10, 2)
    _disc(mask, 0, 200, 15, 1)      # cut by the top edge
    _disc(mask, 150, 399, 12, 2)    # cut by the right edge
    out = measure_mask(mask, ['matrix', 'secondary', 'tertiary'], pixel_size=0.5)
    sec = out['classes']['secondary']
    # area fraction: exact pixel counts
    assert sec['area_fraction'] == (mask == 1).sum() / mask.size
    assert out['classes']['matrix']['area_fraction'] == (mask == 0).sum() / mask.size
    assert sec['count'] == 4 and sec['count_border'] == 1
    assert sec['number_density'] == pytest.approx(4 / (mask.size * 0.25))
    p = out['particles']['secondary']
    inner = ~p['touches_border']
    # ECD of digital discs: within 2 % of 2 r (in units: pixel size 0.5)
    expected = sorted(2 * r * 0.5 for r in radii.values())
    assert np.allclose(sorted(p['ecd'][inner]), expected, rtol=0.02)
    assert sec['ecd_mean'] == pytest.approx(np.mean(expected), rel=0.02)
    assert sec['ecd_median'] == pytest.approx(np.median(expected), rel=0.02)
    # the border particle is listed (flagged) but not in the statistics
    assert p['touches_border'].sum() == 1
    assert out['samples']['secondary']['ecd'].size == 3
    # round particles: aspect ratio ~1, solidity high
    assert np.all(p['aspect_ratio'][inner] < 1.1) and np.all(p['solidity'][inner] > 0.9)
    ter = out['particles']['tertiary']
    assert sorted(ter['touches_border'].tolist()) == [False, True]
    assert out['classes']['tertiary']['count'] == 2


def test_feret_of_rectangles_exact():
    for h, w in ((1, 1), (1, 9), (3, 7), (12, 5)):
        fmax, fmin = feret_diameters(np.ones((h, w), bool))
        assert fmin == pytest.approx(min(h, w)) and fmax == pytest.approx(np.hypot(h, w))
    # a rotated 40 x 10 rectangle: the hull of the pixel squares adds up to about a pixel
    # diagonal at the extreme corners of a shape that is not aligned with the grid
    img = np.zeros((120, 120), np.uint8)
    box = cv2.boxPoints(((60, 60), (40, 10), 30.0))
    cv2.fillPoly(img, [np.round(box * 16).astype(np.int32)], 1, shift=4)
    p = measure_particles(img.astype(bool))
    # (the squares of a boundary at 30 degrees stick out by (cos + sin) / 2 = 0.68 px a side)
    assert np.hypot(40, 10) <= p['feret_max'][0] <= np.hypot(40, 10) + 2.0
    assert 10 <= p['feret_min'][0] <= 10 + 2.0
    assert p['aspect_ratio'][0] == pytest.approx(np.hypot(40, 10) / 10, rel=0.15)


def test_corner_touching_particles_stay_apart():
    m = np.zeros((6, 6), bool)
    m[1, 1] = m[2, 2] = True
    assert measure_particles(m)['id'].size == 2


@pytest.mark.parametrize('t', [6, 11, 20, 33])
def test_band_thickness(t):
    """A horizontal band of t rows: thickness t (within 1 px, the skeleton's raster)."""
    mask = np.zeros((120, 300), np.uint8)
    mask[50:50 + t] = 1
    out = measure_mask(mask, ['background', 'oxide', 'crack'])
    row = out['classes']['oxide']
    assert t - 1 <= row['thickness_min'] <= row['thickness_max'] <= t
    assert row['thickness_mean'] == pytest.approx(t, abs=1.0)
    assert row['area_fraction'] == t / 120


def test_tilted_band_thickness():
    """A band whose normal thickness is known: 25 px, tilted 20 degrees, pixel size 2."""
    mask = np.zeros((300, 400), np.uint8)
    angle = np.deg2rad(20)
    yy, xx = np.mgrid[:300, :400].astype(float)
    # signed distance to the line through (200, 150) at 20 degrees
    dist = (yy - 150) * np.cos(angle) - (xx - 200) * np.sin(angle)
    mask[np.abs(dist) < 12.5] = 1
    out = measure_mask(mask, ['background', 'oxide', 'crack'], pixel_size=2.0)
    row = out['classes']['oxide']
    assert row['thickness_mean'] == pytest.approx(25 * 2.0, abs=2 * 1.5)
    assert row['thickness_std'] < 2 * 1.0


@pytest.mark.parametrize('t', [16, 25])
def test_wavy_band_thickness(t):
    """Constant normal thickness t around a sine centreline (slopes up to 32 degrees): within
    1.5 px (an oblique raster boundary)."""
    from scipy.spatial import cKDTree
    x = np.linspace(-50, 650, 28001)  # the curve sampled every 0.025 px
    curve = np.stack([150 + 25 * np.sin(2 * np.pi * x / 250), x], axis=1)
    pixels = np.stack(np.mgrid[:300, :600], axis=-1).reshape(-1, 2)
    band = (cKDTree(curve).query(pixels)[0] < t / 2).reshape(300, 600)
    values = local_thickness(band)
    assert values.mean() == pytest.approx(t, abs=1.5)
    assert values.std() < 1.0


def test_cracks_join_the_layer_and_are_counted():
    mask = np.zeros((100, 300), np.uint8)
    mask[40:60] = 1
    mask[50, 20:121] = 2          # 100 px long horizontal crack
    cv2.line(mask, (150, 45), (230, 55), 2)  # second crack
    out = measure_mask(mask, ['background', 'oxide', 'crack'])
    crack = out['classes']['crack']
    assert crack['crack_count'] == 2
    expected = 100 + np.hypot(80, 10)
    assert crack['crack_length'] == pytest.approx(expected, rel=0.05)
    # the cracks do not thin the layer
    assert out['classes']['oxide']['thickness_mean'] == pytest.approx(20, abs=1.0)


def test_skeleton_length_of_lines():
    m = np.zeros((50, 200), bool)
    m[20, 10:110] = True
    assert skeleton_length(m) == pytest.approx(99)
    d = np.zeros((200, 200), np.uint8)
    cv2.line(d, (10, 10), (110, 110), 1)
    assert skeleton_length(d.astype(bool)) == pytest.approx(100 * np.sqrt(2))


def test_matrix_channel_width():
    """Square particles on a grid leave matrix channels of known width (10 px)."""
    mask = np.zeros((310, 310), np.uint8)
    for y in range(10, 300, 60):
        for x in range(10, 300, 60):
            mask[y:y + 50, x:x + 50] = 1
    out = measure_mask(mask, ['matrix', 'secondary', 'tertiary'])
    row = out['classes']['matrix']
    # straight channels are 10 wide; crossings are wider (the inscribed circle grows there)
    assert row['width_median'] == pytest.approx(10, abs=1.0)


def test_ignore_pixels_leave_the_field():
    mask = np.zeros((10, 10), np.uint8)
    mask[:5] = 1
    mask[8:] = IGNORE
    out = measure_mask(mask, ['matrix', 'secondary', 'tertiary'])
    assert out['classes']['secondary']['area_fraction'] == 50 / 80
    assert out['classes']['secondary']['field_area'] == 80


def test_roles_from_class_names():
    assert class_roles(['matrix', 'secondary', 'tertiary']) == ['matrix', 'particles',
                                                                'particles']
    assert class_roles(['background', 'oxide', 'crack']) == ['background', 'layer', 'crack']
    assert class_roles(['bg', 'pore']) == ['background', 'particles']


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_synthetic_generator_truth(seed):
    """On the generator's own masks: fractions are its pixel counts, particle areas add up to
    the class, the oxide thickness matches the layer's vertical extent per column."""
    from csunet.datasets.synthetic import make_sample
    _, sup = make_sample('super', (256, 256), seed)
    out = measure_mask(sup, ['matrix', 'secondary', 'tertiary'])
    for cid, name in enumerate(['matrix', 'secondary', 'tertiary']):
        assert out['classes'][name]['area_fraction'] == (sup == cid).mean()
    for cid, name in ((1, 'secondary'), (2, 'tertiary')):
        assert out['particles'][name]['area'].sum() == (sup == cid).sum()
    # generator: tertiary radii 1.6-3.6 px (ECD 3.2-7.2), secondary edges ~19-39 px
    assert 2.5 <= out['classes']['tertiary']['ecd_median'] <= 8
    assert 15 <= out['classes']['secondary']['ecd_median'] <= 45
    _, ebc = make_sample('ebc', (256, 256), seed)
    layer = (ebc == 1) | (ebc == 2)
    out = measure_mask(ebc, ['background', 'oxide', 'crack'])
    # mean local thickness of a layer = its area / its centreline length (within 12 %: the
    # generator's layer is wavy, of varying thickness, and has ends at the field edge)
    assert out['classes']['oxide']['thickness_mean'] == pytest.approx(
        layer.sum() / skeleton_length(layer), rel=0.12)
    assert out['classes']['oxide']['area_fraction'] == (ebc == 1).mean()


def test_chunked_regionprops_gives_the_same_table(monkeypatch):
    """Labels are measured in chunks (bounded memory for millions of specks): same result."""
    import csunet.analysis.measure as measure
    b = np.random.default_rng(0).random((120, 150)) < 0.3
    whole = measure_particles(b)
    monkeypatch.setattr(measure, '_CHUNK', 500)
    chunked = measure_particles(b)
    assert whole['id'].size > 1000
    for key in whole:
        assert np.array_equal(whole[key], chunked[key]), key
