"""Deterministic synthetic micrographs with index masks, for smoke tests and CI without NASA data.

Two materials mimic the NASA benchmark data sets (pretrained-microscopy-models):

* ``'super'`` -- Ni superalloy SEM image: a dark γ matrix (label 0) with large blocky / rounded
  secondary γ' precipitates (label 1) on a jittered grid and small round tertiary γ' precipitates
  (label 2) in the matrix channels between them.
* ``'ebc'`` -- environmental barrier coating cross-section: a bright substrate at the bottom, a
  darker wavy oxide layer of varying thickness (label 1), a porous grey coating above it, and
  optionally thin dark crack lines inside the oxide (label 2). Substrate and coating are the
  background (label 0).

Each image gets its own class intensities, brightness/contrast, illumination gradient, Gaussian
blur and noise, drawn from the generator passed in, so a seed fully determines a data set. Class
intensities differ by several noise standard deviations, so the task is learnable.

The on-disk layout is the one of our NASA converter (``tools/dataset_converters``)::

    OUT/<name>/img_dir/<part>/<stem>.png   8-bit grey image
    OUT/<name>/ann_dir/<part>/<stem>.png   uint8 index mask
    OUT/<name>/splits/<part>.txt           stems, one per line

with parts ``train``, ``val`` and ``test``. ``size`` is ``(height, width)`` everywhere.
"""
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..fileio import write_bytes_atomic, write_text_atomic

__all__ = [
    'MATERIALS', 'PARTS', 'CLASS_NAMES', 'make_sample', 'generate_dataset', 'write_png_atomic'
]

MATERIALS = ('super', 'ebc')
PARTS = ('train', 'val', 'test')
#: Label names per material (index = label value in the masks).
CLASS_NAMES: Dict[str, Tuple[str, ...]] = {
    'super': ('matrix', 'secondary', 'tertiary'),
    'ebc': ('background', 'oxide', 'crack'),
}


def _check_size(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    h, w = (int(v) for v in size)
    if h < 32 or w < 32:
        raise ValueError(f'size must be at least 32x32, got {(h, w)}')
    return h, w


def _finish(clean: np.ndarray, rng: np.random.Generator, blur: Tuple[float, float],
            noise: Tuple[float, float]) -> np.ndarray:
    """Illumination gradient, contrast/brightness, blur and noise; float image -> uint8."""
    h, w = clean.shape
    img = clean.astype(np.float32)
    # smooth illumination gradient (SEM shading): a tilted plane, +-10 grey levels at most
    gy, gx = rng.uniform(-10, 10, size=2)
    yy = np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None]
    xx = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
    img += gy * yy + gx * xx
    # contrast / brightness around mid grey
    contrast = rng.uniform(0.85, 1.15)
    brightness = rng.uniform(-15, 15)
    img = (img - 128.0) * contrast + 128.0 + brightness
    sigma = rng.uniform(*blur)
    img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma)
    img += rng.normal(0.0, rng.uniform(*noise), size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _superellipse(cx: float, cy: float, a: float, b: float, n: float, theta: float,
                  points: int = 48) -> np.ndarray:
    """Polygon of the superellipse |x/a|^n + |y/b|^n = 1 (n=2 ellipse, large n rectangle)."""
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = a * np.sign(c) * np.abs(c)**(2.0 / n)
    y = b * np.sign(s) * np.abs(s)**(2.0 / n)
    ct, st = np.cos(theta), np.sin(theta)
    px = cx + x * ct - y * st
    py = cy + x * st + y * ct
    return np.stack([px, py], axis=1)


def _draw_polygons(canvas: np.ndarray, polys: Sequence[np.ndarray], value: int,
                   shift: int = 4) -> None:
    """Fill float polygons with sub-pixel accuracy (cv2 fixed point, ``shift`` bits)."""
    if not polys:
        return
    scale = float(1 << shift)
    pts = [np.round(p * scale).astype(np.int32) for p in polys]
    cv2.fillPoly(canvas, pts, int(value), lineType=cv2.LINE_8, shift=shift)


def _make_super(size: Tuple[int, int], rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    h, w = size
    scale = min(h, w) / 256.0
    mask = np.zeros((h, w), np.uint8)

    # secondary γ': blocky/rounded particles on a jittered, slightly rotated grid
    pitch = rng.uniform(34, 52) * scale
    fill = rng.uniform(0.55, 0.75)  # particle edge / pitch
    grid_theta = rng.uniform(-0.3, 0.3)
    exponent_lo = rng.uniform(2.0, 3.0)  # rounded ... blocky
    exponent_hi = exponent_lo + rng.uniform(0.5, 3.0)
    reach = int(np.ceil(max(h, w) / pitch)) + 2
    polys = []
    ct, st = np.cos(grid_theta), np.sin(grid_theta)
    for i in range(-reach, reach + 1):
        for j in range(-reach, reach + 1):
            gx, gy = (j + 0.5) * pitch, (i + 0.5) * pitch
            cx = w / 2 + gx * ct - gy * st + rng.normal(0, 0.12 * pitch)
            cy = h / 2 + gx * st + gy * ct + rng.normal(0, 0.12 * pitch)
            if not (-pitch < cx < w + pitch and -pitch < cy < h + pitch):
                continue
            if rng.random() < 0.08:  # occasional missing particle -> wider matrix channel
                continue
            half = 0.5 * pitch * fill * rng.uniform(0.75, 1.15)
            aspect = rng.uniform(0.8, 1.25)
            polys.append(
                _superellipse(cx, cy, half * aspect, half / aspect,
                              rng.uniform(exponent_lo, exponent_hi),
                              grid_theta + rng.normal(0, 0.12)))
    _draw_polygons(mask, polys, 1)

    # tertiary γ': small round particles in the matrix channels, away from secondary ones
    keep_out = cv2.dilate((mask == 1).astype(np.uint8), np.ones((5, 5), np.uint8),
                          iterations=max(1, int(round(scale))))
    r_lo, r_hi = 1.6 * scale, 3.6 * scale
    density = rng.uniform(3.0, 7.0)  # candidates per 1000 px of matrix (at 256 px scale)
    n_candidates = int(density * (keep_out == 0).sum() / (1000.0 * scale * scale))
    tertiary = np.zeros((h, w), np.uint8)
    if n_candidates > 0:
        ys = rng.uniform(0, h, n_candidates)
        xs = rng.uniform(0, w, n_candidates)
        radii = rng.uniform(r_lo, r_hi, n_candidates)
        for y, x, r in zip(ys, xs, radii):
            if keep_out[min(int(y), h - 1), min(int(x), w - 1)]:
                continue
            # centre and radius in 1/16 px (cv2 fixed point, shift=4)
            cv2.circle(tertiary, (int(round(x * 16)), int(round(y * 16))), int(round(r * 16)), 1,
                       thickness=-1, lineType=cv2.LINE_8, shift=4)
    mask[(tertiary == 1) & (keep_out == 0)] = 2

    # intensities: matrix dark, tertiary mid, secondary bright (etched SE contrast)
    matrix = rng.uniform(55, 80)
    secondary = matrix + rng.uniform(110, 140)
    tert = matrix + rng.uniform(60, 80)
    lut = np.array([matrix, secondary, tert], np.float32)
    clean = lut[mask]
    # mild low-frequency texture inside the phases
    texture = rng.normal(0, 1, (max(2, h // 32), max(2, w // 32))).astype(np.float32)
    clean += 6.0 * cv2.resize(texture, (w, h), interpolation=cv2.INTER_CUBIC)
    image = _finish(clean, rng, blur=(0.6, 1.2), noise=(6.0, 12.0))
    return image, mask


def _smooth_curve(n: int, rng: np.random.Generator, amplitude: float, waves: int = 3) -> np.ndarray:
    """Sum of a few random sinusoids sampled at ``n`` points (a wavy interface profile)."""
    x = np.linspace(0, 1, n)
    y = np.zeros(n)
    for k in range(1, waves + 1):
        freq = rng.uniform(0.5, 2.5) * k
        y += rng.uniform(0.3, 1.0) / k * np.sin(2 * np.pi * freq * x + rng.uniform(0, 2 * np.pi))
    return amplitude * y / max(np.abs(y).max(), 1e-6)


def _make_ebc(size: Tuple[int, int], rng: np.random.Generator,
              crack_prob: float = 0.6) -> Tuple[np.ndarray, np.ndarray]:
    h, w = size
    scale = min(h, w) / 256.0
    mask = np.zeros((h, w), np.uint8)
    rows = np.arange(h, dtype=np.float32)[:, None]

    # substrate top (oxide bottom) and oxide thickness as smooth functions of x
    base = rng.uniform(0.58, 0.75) * h
    bottom = base + _smooth_curve(w, rng, amplitude=rng.uniform(0.02, 0.06) * h)
    mean_thick = rng.uniform(0.07, 0.16) * h
    thickness = mean_thick + _smooth_curve(w, rng, amplitude=0.45 * mean_thick)
    thickness = np.maximum(thickness, 2.5 * scale)
    top = bottom - thickness
    oxide = (rows >= top[None, :]) & (rows < bottom[None, :])
    substrate = rows >= bottom[None, :]
    mask[oxide] = 1

    # optional cracks: thin, roughly horizontal polylines inside the oxide
    cracks = np.zeros((h, w), np.uint8)
    if rng.random() < crack_prob:
        for _ in range(int(rng.integers(1, 4))):
            length = int(rng.uniform(0.15, 0.5) * w)
            x0 = int(rng.integers(0, max(1, w - length)))
            xs = np.arange(x0, x0 + length)
            frac = rng.uniform(0.3, 0.7)
            wobble = _smooth_curve(len(xs), rng, amplitude=0.15 * mean_thick, waves=2)
            ys = top[xs] + frac * thickness[xs] + wobble
            pts = np.stack([xs, ys], axis=1)
            thick = max(1, int(round(rng.uniform(1.0, 2.0) * scale)))
            cv2.polylines(cracks, [np.round(pts).astype(np.int32)], False, 1, thickness=thick)
    mask[(cracks == 1) & oxide] = 2

    # intensities: substrate bright, coating grey (with dark pores), oxide dark, cracks darkest
    coating = rng.uniform(135, 160)
    sub = coating + rng.uniform(45, 70)
    ox = coating - rng.uniform(55, 75)
    crack = ox - rng.uniform(35, 50)
    clean = np.full((h, w), coating, np.float32)
    clean[substrate] = sub
    clean[mask == 1] = ox
    clean[mask == 2] = crack
    # pores in the coating only (label 0): dark blobs well above the oxide
    pores = np.zeros((h, w), np.uint8)
    n_pores = int(rng.uniform(10, 30) * scale * scale)
    for _ in range(n_pores):
        x = rng.uniform(0, w)
        y = rng.uniform(0, max(1.0, top.min() - 6 * scale))
        axes = (max(1, int(rng.uniform(1, 4) * scale)), max(1, int(rng.uniform(1, 3) * scale)))
        cv2.ellipse(pores, (int(x), int(y)), axes, rng.uniform(0, 180), 0, 360, 1, -1)
    pores &= (rows < top[None, :] - 2 * scale).astype(np.uint8)
    clean[pores == 1] = coating - rng.uniform(40, 60)
    texture = rng.normal(0, 1, (max(2, h // 24), max(2, w // 24))).astype(np.float32)
    clean += 5.0 * cv2.resize(texture, (w, h), interpolation=cv2.INTER_CUBIC)
    image = _finish(clean, rng, blur=(0.5, 1.0), noise=(7.0, 12.0))
    return image, mask


def make_sample(material: str = 'super',
                size: Union[int, Sequence[int]] = (256, 256),
                rng: Optional[Union[np.random.Generator, int]] = None
                ) -> Tuple[np.ndarray, np.ndarray]:
    """One synthetic micrograph and its index mask.

    Args:
        material (str): ``'super'`` (labels 0 matrix, 1 secondary, 2 tertiary γ') or ``'ebc'``
            (labels 0 background, 1 oxide, 2 crack).
        size (int | tuple[int, int]): ``(height, width)``; at least 32x32.
        rng (np.random.Generator | int, optional): Random generator (or a seed for one). The
            result is a pure function of the generator state.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``image`` (H, W) uint8 and ``mask`` (H, W) uint8.
    """
    if material not in MATERIALS:
        raise ValueError(f'material must be one of {MATERIALS}, got {material!r}')
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    hw = _check_size(size)
    if material == 'super':
        return _make_super(hw, rng)
    return _make_ebc(hw, rng)


def write_png_atomic(path: Union[str, Path], array: np.ndarray) -> None:
    """Encode ``array`` as PNG and move it into place atomically (temp file + ``os.replace``)."""
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'could not encode {path} as PNG')
    write_bytes_atomic(path, buf.tobytes())


def generate_dataset(out_dir: Union[str, Path],
                     material: str = 'super',
                     num_train: int = 8,
                     num_val: int = 2,
                     num_test: int = 2,
                     size: Union[int, Sequence[int]] = (256, 256),
                     seed: int = 0,
                     name: Optional[str] = None) -> Path:
    """Write a synthetic data set in the NASA-converter layout and return its root.

    Sample ``k`` of part ``p`` is drawn from ``np.random.default_rng([seed, index(p), k])``, so a
    sample does not depend on how many samples the other parts have.

    Args:
        out_dir (str | Path): Output folder ``OUT``.
        material (str): ``'super'`` or ``'ebc'``.
        num_train, num_val, num_test (int): Number of samples per part.
        size (int | tuple[int, int]): ``(height, width)`` of every sample.
        seed (int): Seed of the whole data set.
        name (str, optional): Folder name under ``out_dir``. Defaults to
            ``f'synthetic_{material}'``.

    Returns:
        Path: ``OUT/<name>`` (holding ``img_dir``, ``ann_dir`` and ``splits``).
    """
    if material not in MATERIALS:
        raise ValueError(f'material must be one of {MATERIALS}, got {material!r}')
    counts = dict(train=num_train, val=num_val, test=num_test)
    for part, n in counts.items():
        if int(n) < 0:
            raise ValueError(f'num_{part} must be >= 0, got {n}')
    hw = _check_size(size)
    root = Path(out_dir) / (name or f'synthetic_{material}')
    for part_index, part in enumerate(PARTS):
        stems = []
        for k in range(int(counts[part])):
            rng = np.random.default_rng([int(seed), part_index, k])
            image, mask = make_sample(material, hw, rng)
            stem = f'{material}_{part}_{k:04d}'
            write_png_atomic(root / 'img_dir' / part / f'{stem}.png', image)
            write_png_atomic(root / 'ann_dir' / part / f'{stem}.png', mask)
            stems.append(stem)
        write_text_atomic(root / 'splits' / f'{part}.txt', ''.join(f'{s}\n' for s in stems))
    return root
