"""Decoding rules of the NASA microstructure segmentation benchmark (Super 1-4, EBC 1-3).

The benchmark (``benchmark_segmentation_data/`` of nasa/pretrained-microscopy-models, used by
Stuckner et al. 2022 and the CS-UNet paper) stores micrographs and masks as TIFF files. This module
holds the reusable, dependency-light decoding logic; ``tools/dataset_converters/nasa_benchmark.py``
is a thin CLI around it and the tests and datasets reuse it.

Encodings (every violation raises :class:`EncodingError`, a ``ValueError`` with a reason):

* **Micrographs** (:func:`image_to_uint8`): 2-D grey, ``(H, W, 1)``, RGB or RGBA, ``uint8`` or
  ``uint16``. ``uint16`` is converted to ``uint8`` by *linear scaling of the full dtype range*
  (``0 -> 0``, ``65535 -> 255``, i.e. ``round(v / 257)``), never by per-image min/max
  stretching, so the conversion is deterministic and identical for every image (the benchmark's
  two ``uint16`` images use the full 0-65535 range). An alpha channel is dropped; RGB whose three
  channels are equal (how the benchmark stores grey micrographs) becomes one grey channel; real
  colour stays RGB.
* **Super masks** (:func:`decode_super_mask`): RGBA (or RGB) overlays, ``uint8`` or ``uint16``
  with ``max`` = 255 / 65535. Pure blue ``(0, 0, max)`` = secondary gamma' (index 1), pure red
  ``(max, 0, 0)`` = tertiary gamma' (index 2), every grey pixel ``R == G == B`` (the micrograph
  showing through, black included) = matrix (index 0). Alpha must be opaque. Any other colour is
  an error.
* **EBC masks** (:func:`check_ebc_mask`): single-channel ``uint8`` with values
  0 = background/substrate, 1 = oxide, 2 = crack. Values are kept raw (crack merging is an
  option of :class:`csunet.datasets.EBCDataset`).
"""
import hashlib
import os
from typing import Dict, Optional, Tuple

import numpy as np

__all__ = [
    'EncodingError', 'SUPER_CLASSES', 'SUPER_PALETTE', 'EBC_RAW_CLASSES', 'EBC_RAW_VALUES',
    'read_tiff', 'image_to_uint8', 'decode_super_mask', 'check_ebc_mask', 'pixels_sha256',
    'content_key', 'class_pixel_counts', 'image_mask_shape_error'
]

#: Super index classes and their colours (mirroring the NASA overlay: matrix shown grey).
SUPER_CLASSES = ('matrix', 'secondary', 'tertiary')
SUPER_PALETTE = [[128, 128, 128], [0, 0, 255], [255, 0, 0]]
#: Raw EBC mask values and their meaning.
EBC_RAW_CLASSES = ('background', 'oxide', 'crack')
EBC_RAW_VALUES = (0, 1, 2)

_MAX_REPORTED = 5


class EncodingError(ValueError):
    """A file does not follow the benchmark encoding; ``str(err)`` is the reason."""


def read_tiff(path: str) -> np.ndarray:
    """Read a TIFF's first page, turning every failure into :class:`EncodingError`.

    Detects missing/empty files, non-TIFF content, truncated files (strip or tile data beyond the
    end of the file, or a decoder error) and empty pixel arrays.
    """
    import tifffile

    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise EncodingError(f'unreadable file: {err.strerror or err}') from err
    if size == 0:
        raise EncodingError('empty file (0 bytes)')
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.pages:
                raise EncodingError('TIFF holds no image page')
            page = tif.pages.first
            offsets = getattr(page, 'dataoffsets', ()) or ()
            counts = getattr(page, 'databytecounts', ()) or ()
            end = max((o + c for o, c in zip(offsets, counts)), default=0)
            if end > size:
                raise EncodingError(f'truncated file: pixel data ends at byte {end} but the '
                                    f'file has {size} bytes')
            arr = page.asarray()
    except EncodingError:
        raise
    except Exception as err:  # tifffile, zlib, imagecodecs, OSError ...
        raise EncodingError(f'unreadable or truncated TIFF ({type(err).__name__}: {err})') \
            from err
    if arr.size == 0:
        raise EncodingError(f'empty pixel array (shape {arr.shape})')
    return arr


def _dtype_max(arr: np.ndarray, what: str) -> int:
    if arr.dtype not in (np.uint8, np.uint16):
        raise EncodingError(f'{what}: unsupported dtype {arr.dtype} (expected uint8 or uint16)')
    return int(np.iinfo(arr.dtype).max)


def image_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Normalise a micrograph to ``uint8`` ``(H, W)`` grey or ``(H, W, 3)`` RGB.

    ``uint16`` is scaled linearly over the full dtype range (``round(v * 255 / 65535)``).
    Alpha is dropped and RGB with equal channels becomes single-channel grey.
    """
    _dtype_max(arr, 'image')
    if arr.ndim == 3 and arr.shape[2] in (1, 2):  # grey (+ alpha)
        arr = arr[..., 0]
    elif arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[..., :3]
        if (np.array_equal(arr[..., 0], arr[..., 1])
                and np.array_equal(arr[..., 0], arr[..., 2])):
            arr = arr[..., 0]
    elif arr.ndim != 2:
        raise EncodingError(f'image: unsupported shape {arr.shape} '
                            '(expected HxW, HxWx1, HxWx3 or HxWx4)')
    if arr.dtype == np.uint16:
        # 65535 / 255 == 257 exactly; +128 rounds to nearest.
        arr = ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _describe_bad(mask: np.ndarray, rgb: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    colours, counts = np.unique(rgb[mask].reshape(-1, rgb.shape[-1]), axis=0,
                                return_counts=True)
    order = np.argsort(-counts)[:_MAX_REPORTED]
    shown = ', '.join(f'{tuple(int(v) for v in colours[i])} x{int(counts[i])}' for i in order)
    more = '' if len(colours) <= _MAX_REPORTED else f' (+{len(colours) - _MAX_REPORTED} more)'
    return (f'{int(mask.sum())} pixels, first at (y={int(ys[0])}, x={int(xs[0])}); '
            f'colours: {shown}{more}')


def decode_super_mask(arr: np.ndarray) -> np.ndarray:
    """Decode a Super RGBA/RGB overlay to a ``uint8`` index mask (0 matrix, 1 sec., 2 tert.)."""
    vmax = _dtype_max(arr, 'Super mask')
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise EncodingError(f'Super mask: expected an RGBA or RGB overlay, got shape {arr.shape}')
    if arr.shape[2] == 4:
        alpha = arr[..., 3]
        if not (alpha == vmax).all():
            bad = alpha != vmax
            raise EncodingError(f'Super mask: alpha not opaque ({vmax}) at '
                                f'{int(bad.sum())} pixels')
    r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
    grey = (r == g) & (g == b)
    blue = (r == 0) & (g == 0) & (b == vmax)
    red = (r == vmax) & (g == 0) & (b == 0)
    bad = ~(grey | blue | red)
    if bad.any():
        raise EncodingError('Super mask: colours outside the encoding (grey R=G=B = matrix, '
                            f'(0,0,{vmax}) = secondary, ({vmax},0,0) = tertiary): ' +
                            _describe_bad(bad, arr[..., :3]))
    out = np.zeros(arr.shape[:2], np.uint8)
    out[blue] = 1
    out[red] = 2
    return out


def check_ebc_mask(arr: np.ndarray) -> np.ndarray:
    """Validate an EBC mask and return it as ``uint8`` ``(H, W)`` with raw values 0/1/2."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise EncodingError(f'EBC mask: expected a single-channel mask, got shape {arr.shape}')
    if arr.dtype != np.uint8:
        raise EncodingError(f'EBC mask: expected dtype uint8, got {arr.dtype}')
    bad = ~np.isin(arr, EBC_RAW_VALUES)
    if bad.any():
        values, counts = np.unique(arr[bad], return_counts=True)
        ys, xs = np.nonzero(bad)
        shown = ', '.join(f'{int(v)} x{int(c)}' for v, c in zip(values, counts))
        raise EncodingError(f'EBC mask: values outside {{0, 1, 2}}: {shown}; first at '
                            f'(y={int(ys[0])}, x={int(xs[0])})')
    return np.ascontiguousarray(arr)


def pixels_sha256(arr: np.ndarray) -> str:
    """sha256 of ``ascontiguousarray(arr).tobytes()`` (the MANIFEST.json convention)."""
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def content_key(arr: np.ndarray) -> str:
    """Content address of a pixel array: sha256 over dtype, shape and pixel bytes."""
    h = hashlib.sha256(f'{arr.dtype.str}:{arr.shape}:'.encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def class_pixel_counts(index_mask: np.ndarray, num_values: int) -> Dict[int, int]:
    """Pixel count per value ``0 .. num_values-1`` of an index mask."""
    counts = np.bincount(index_mask.ravel(), minlength=num_values)
    return {i: int(counts[i]) for i in range(num_values)}


def image_mask_shape_error(img_shape: Tuple[int, ...],
                           mask_shape: Tuple[int, ...]) -> Optional[str]:
    """Reason string when a mask's HxW differs from its image's, else ``None``."""
    if tuple(img_shape[:2]) != tuple(mask_shape[:2]):
        return (f'mask size {mask_shape[0]}x{mask_shape[1]} (HxW) differs from image size '
                f'{img_shape[0]}x{img_shape[1]}')
    return None
