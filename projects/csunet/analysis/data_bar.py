"""Instrument data bar at the bottom of SEM micrographs (scale bar, magnification, HV, ...).

The rule (shared by ``tools/dataset_converters/microlite.py`` and ``tools/analyze.py``):

A row is *bar-like* when its pixels are almost all saturated - ``>= 90 %`` at most 25
(near-black) or at least 230 (near-white), with one of the two making up ``>= 50 %`` (a black
bar with white text, or the reverse) - or when the row is uniform (standard deviation < 2 grey
levels, e.g. a separator line). Scanning upwards from the bottom row, the consecutive bar-like
rows form the candidate band of height ``h``. The band is a data bar when
``h >= max(4, 2 % of H)``, ``h <= 30 % of H``, at least half of its rows are saturated (a flat
grey image region is not a bar), and it is distinct from the image: fewer than half of the rows
above it are bar-like (a binary or blank micrograph is left alone). Otherwise there is no bar.
"""
from typing import Tuple

import numpy as np

__all__ = ['detect_data_bar', 'row_classes']

DARK_MAX = 25
BRIGHT_MIN = 230
SATURATED_FRACTION = 0.9
DOMINANT_FRACTION = 0.5
UNIFORM_STD = 2.0
BAR_MIN_ROWS = 4
BAR_MIN_FRACTION = 0.02
BAR_MAX_FRACTION = 0.3


def row_classes(img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Per row of a uint8 image ``(H, W)`` (or ``(H, W, C)``, averaged to grey):
    ``(saturated, uniform)`` boolean arrays of shape ``(H,)`` (see the module docstring)."""
    if img.ndim == 3:
        img = img[..., :3].mean(axis=2)
    dark = (img <= DARK_MAX).mean(axis=1)
    bright = (img >= BRIGHT_MIN).mean(axis=1)
    saturated = ((dark + bright) >= SATURATED_FRACTION) & (
        np.maximum(dark, bright) >= DOMINANT_FRACTION)
    uniform = img.astype(np.float32).std(axis=1) < UNIFORM_STD
    return saturated, uniform


def detect_data_bar(img: np.ndarray) -> int:
    """Height in rows of the instrument data bar at the bottom of ``img`` (0: none).

    Args:
        img (np.ndarray): uint8 ``(H, W)`` grey or ``(H, W, C)`` colour micrograph.

    Returns:
        int: number of bottom rows that form the data bar (``0 <= rows <= 0.3 * H``).
    """
    if img.dtype != np.uint8:
        raise TypeError(f'data bar detection needs a uint8 image, got {img.dtype}')
    h = img.shape[0]
    saturated, uniform = row_classes(img)
    rows = saturated | uniform
    band = 0
    while band < h and rows[h - 1 - band]:
        band += 1
    if band < max(BAR_MIN_ROWS, BAR_MIN_FRACTION * h) or band > BAR_MAX_FRACTION * h:
        return 0
    if saturated[h - band:].mean() < 0.5:  # flat image content, not a data bar
        return 0
    if rows[:h - band].mean() >= 0.5:  # not distinct from the image above it
        return 0
    return band
