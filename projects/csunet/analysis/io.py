"""Reading micrographs and label masks for ``tools/analyze.py``, with the pixel calibration.

Every failure raises :class:`InputError` (a ``ValueError``) whose message is the reason; the
caller adds the file name.

* Formats: TIFF (via tifffile: 8/16-bit, grey, grey+alpha, RGB, RGBA; one image per file - a
  multi-page TIFF is refused, reduced-resolution thumbnail pages are ignored), PNG and JPEG (via
  OpenCV, 8/16-bit).
* Micrographs become ``uint8`` ``(H, W)`` grey or ``(H, W, 3)`` RGB (:func:`read_micrograph`):
  ``intensity='dtype'`` scales the full dtype range linearly (16-bit ``v -> round(v / 257)``),
  exactly like the NASA converter that made the training images, so every image gets the same
  grey levels; ``intensity='stretch'`` maps the 0.1-99.9 percentiles to 0-255 (for e.g. 12-bit
  data stored in 16-bit files, which would otherwise look almost black).
* Calibration (:func:`tiff_calibration`), in this order: FEI/Thermo metadata
  (``[Scan] PixelWidth``, metres), Zeiss SEM metadata (``AP_IMAGE_PIXEL_SIZE``), ImageJ's
  ``unit`` with the resolution tags, the TIFF resolution tags with ``ResolutionUnit`` inch or
  centimetre. Resolution tags implying pixels coarser than 20 um are ignored: they are the
  72-600 dpi defaults of imaging software (353-42 um per pixel), not a microscope calibration.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..datasets import nasa_encoding

__all__ = [
    'InputError', 'Calibration', 'IMAGE_EXTENSIONS', 'UNIT_METRES', 'read_micrograph',
    'read_label_mask', 'tiff_calibration', 'collect_inputs', 'to_model_input'
]

IMAGE_EXTENSIONS = ('.tif', '.tiff', '.png', '.jpg', '.jpeg')
TIFF_EXTENSIONS = ('.tif', '.tiff')
#: Length units understood in metadata, in metres.
UNIT_METRES = {
    'pm': 1e-12, 'nm': 1e-9, 'um': 1e-6, 'µm': 1e-6, 'μm': 1e-6, 'micron': 1e-6,
    'microns': 1e-6, 'mm': 1e-3, 'cm': 1e-2, 'm': 1.0
}
#: Resolution tags coarser than this (metres per pixel) are software dpi defaults.
MAX_RESOLUTION_TAG_PIXEL = 20e-6


class InputError(ValueError):
    """A file cannot be analysed; ``str(err)`` is the reason."""


@dataclass
class Calibration:
    """Physical size of one pixel.

    Attributes:
        pixel_size (float): length of a pixel side in ``unit`` (1.0 for ``'px'``).
        unit (str): ``'nm'``, ``'um'`` or ``'px'`` (uncalibrated).
        source (str): where the calibration comes from (written to every output).
    """
    pixel_size: float
    unit: str
    source: str

    @classmethod
    def from_metres(cls, metres: float, unit: str, source: str) -> 'Calibration':
        return cls(metres / UNIT_METRES[unit], unit, source)


UNCALIBRATED = Calibration(1.0, 'px', 'none (pixels)')


def _check_file(path: str) -> None:
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise InputError(f'unreadable file: {err.strerror or err}') from err
    if size == 0:
        raise InputError('empty file (0 bytes)')


def _tiff_pages(path: str) -> int:
    """Number of full-resolution pages (thumbnails / reduced-resolution pages excluded)."""
    import tifffile
    try:
        with tifffile.TiffFile(path) as tif:
            return sum(1 for p in tif.pages if not getattr(p, 'is_reduced', False))
    except Exception as err:  # not a TIFF, corrupt header
        raise InputError(f'unreadable TIFF ({type(err).__name__}: {err})') from err


def _read_array(path: str) -> np.ndarray:
    """Pixels of an image file as stored (RGB order for colour), any supported format."""
    _check_file(path)
    ext = osp.splitext(path)[1].lower()
    if ext in TIFF_EXTENSIONS:
        pages = _tiff_pages(path)
        if pages > 1:
            raise InputError(f'multi-page TIFF ({pages} pages): analyze.py takes one image per '
                             'file; save each page as its own file')
        try:
            arr = nasa_encoding.read_tiff(path)
        except nasa_encoding.EncodingError as err:
            raise InputError(str(err)) from err
        if arr.ndim == 3 and arr.shape[0] in (3, 4) and arr.shape[2] not in (1, 2, 3, 4):
            arr = np.moveaxis(arr, 0, -1)  # planar (separate) samples
        return arr
    if ext not in IMAGE_EXTENSIONS:
        raise InputError(f'unsupported file type {ext!r} (supported: '
                         f'{", ".join(IMAGE_EXTENSIONS)})')
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.size == 0:
        raise InputError(f'not a readable {ext[1:].upper()} image (OpenCV could not decode it)')
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = arr[..., ::-1]  # BGR -> RGB
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., [2, 1, 0, 3]]  # BGRA -> RGBA
    return np.ascontiguousarray(arr)


def read_micrograph(path: str, intensity: str = 'dtype') -> np.ndarray:
    """A micrograph as ``uint8`` ``(H, W)`` grey or ``(H, W, 3)`` RGB (see module docstring).

    Args:
        path (str): TIFF, PNG or JPEG file.
        intensity (str): ``'dtype'`` (full dtype range, default) or ``'stretch'``
            (0.1-99.9 percentiles to 0-255).
    """
    if intensity not in ('dtype', 'stretch'):
        raise ValueError(f'intensity must be dtype or stretch, got {intensity!r}')
    arr = _read_array(path)
    if arr.dtype not in (np.uint8, np.uint16):
        raise InputError(f'unsupported pixel type {arr.dtype} (8- or 16-bit unsigned '
                         'integers only)')
    if arr.ndim == 3 and arr.shape[2] in (2, 4):
        arr = arr[..., :arr.shape[2] - 1]  # drop alpha before any statistics
    if intensity == 'stretch':
        lo, hi = np.percentile(arr, (0.1, 99.9))
        scaled = (arr.astype(np.float32) - lo) * (255.0 / max(float(hi - lo), 1e-6))
        arr = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    try:
        return nasa_encoding.image_to_uint8(arr)
    except nasa_encoding.EncodingError as err:
        raise InputError(str(err)) from err


def read_label_mask(path: str, num_classes: int, decode_super: bool = False) -> np.ndarray:
    """An index mask ``(H, W)`` uint8 with values ``0 .. num_classes-1`` (255: unlabelled).

    Args:
        path (str): index PNG/TIFF (one channel), or with ``decode_super`` also NASA's Super
            RGB(A) colour overlays (blue = secondary, red = tertiary, grey = matrix).
        num_classes (int): number of classes of the encoding.
        decode_super (bool): decode colour masks with :func:`nasa_encoding.decode_super_mask`.
    """
    arr = _read_array(path)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3:
        if not decode_super:
            raise InputError(f'expected a one-channel index mask, got shape {arr.shape} '
                             '(colour masks are decoded for --material super only)')
        try:
            return nasa_encoding.decode_super_mask(arr)
        except nasa_encoding.EncodingError as err:
            raise InputError(str(err)) from err
    if arr.ndim != 2 or arr.dtype.kind not in 'ui':
        raise InputError(f'expected an integer index mask, got shape {arr.shape} and dtype '
                         f'{arr.dtype}')
    allowed = list(range(num_classes)) + [255]
    bad = ~np.isin(arr, allowed)
    if bad.any():
        values = np.unique(arr[bad])
        raise InputError(f'mask values {values[:10].tolist()} outside the classes '
                         f'0..{num_classes - 1} (and 255 = unlabelled)')
    return arr.astype(np.uint8)


def _metres(value, unit) -> Optional[float]:
    factor = UNIT_METRES.get(str(unit).strip().lower())
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if factor is None or not np.isfinite(value) or value <= 0:
        return None
    return value * factor


def tiff_calibration(path: str) -> Optional[Tuple[float, str]]:
    """``(metres per pixel, source)`` from a TIFF's metadata, or ``None`` (module docstring)."""
    import tifffile
    try:
        with tifffile.TiffFile(path) as tif:
            fei = tif.fei_metadata or {}
            for section in ('Scan', 'EScan'):
                metres = _metres((fei.get(section) or {}).get('PixelWidth'), 'm')
                if metres:
                    return metres, f'FEI/Thermo TIFF metadata [{section}] PixelWidth'
            sem = tif.sem_metadata or {}
            for key in ('ap_image_pixel_size', 'ap_pixel_size'):
                entry = sem.get(key)
                if isinstance(entry, tuple) and len(entry) >= 3:
                    metres = _metres(entry[1], entry[2])
                    if metres:
                        return metres, f'Zeiss SEM TIFF metadata {key.upper()}'
            page = tif.pages.first
            tags = page.tags
            xres = tags.valueof('XResolution')
            if not xres:
                return None
            num, den = xres if isinstance(xres, tuple) else (xres, 1)
            if not num or not den:
                return None
            per_unit = num / den  # pixels per resolution unit
            ij = tif.imagej_metadata or {}
            if ij.get('unit'):
                metres = _metres(1.0 / per_unit, ij['unit'])
                if metres:
                    return metres, f'ImageJ TIFF metadata (unit {ij["unit"]!r}, XResolution)'
            unit = int(tags.valueof('ResolutionUnit', 2))
            metres = {2: 0.0254, 3: 0.01}.get(unit)
            if metres is None:
                return None
            metres /= per_unit
            if metres > MAX_RESOLUTION_TAG_PIXEL:
                return None  # a dpi default, not a calibration
            return metres, 'TIFF resolution tags (XResolution, ResolutionUnit)'
    except Exception:  # unreadable metadata is no calibration; pixels fail later, clearly
        return None


def collect_inputs(paths: Sequence[str], exclude: Optional[str] = None
                   ) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """Files to analyse: ``([(path, name)], [(path, reason)])``.

    A file argument is taken whatever its extension (an unsupported one fails later, named);
    a folder contributes its image files (``IMAGE_EXTENSIONS``, recursively, sorted), skipping
    ``exclude`` (the output folder). ``name`` - the output name - is the file stem, or for
    files found in a folder the path below it without extension (``sub/image``).
    """
    found, missing = [], []
    exclude = osp.realpath(exclude) if exclude else None
    for arg in paths:
        if osp.isdir(arg):
            for root, dirs, files in os.walk(arg):
                dirs[:] = sorted(d for d in dirs
                                 if osp.realpath(osp.join(root, d)) != exclude)
                for fn in sorted(files):
                    if osp.splitext(fn)[1].lower() in IMAGE_EXTENSIONS:
                        full = osp.join(root, fn)
                        rel = osp.relpath(full, arg)
                        found.append((full, osp.splitext(rel)[0].replace(os.sep, '/')))
        elif osp.exists(arg):
            found.append((arg, osp.splitext(osp.basename(arg))[0]))
        else:
            missing.append((arg, 'no such file or folder'))
    return found, missing


def to_model_input(image: np.ndarray) -> np.ndarray:
    """uint8 grey/RGB micrograph -> ``(H, W, 3)`` BGR, what mmseg's ``LoadImageFromFile`` gives
    for the training PNGs (grey replicated to three channels)."""
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., ::-1])
