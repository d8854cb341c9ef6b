"""Outputs of ``tools/analyze.py``: CSV tables, overlays, field statistics; the HTML report is
:mod:`.html_report` (re-exported here as :func:`write_report`).

Every file is written atomically (temporary file beside it, then renamed), so an interrupted
run never leaves a half-written output.
"""
import csv
import io
import math
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from ..fileio import write_bytes_atomic, write_text_atomic
from .html_report import write_report
from .measure import IGNORE

__all__ = [
    'PALETTE', 'write_csv', 'StreamingCSV', 'write_png', 'overlay', 'colorize', 'field_statistics',
    'histogram_png', 'write_report'
]

#: RGB colour per class index (class 0 is drawn only in colorize; overlays leave it unpainted).
PALETTE = np.array([[128, 128, 128], [0, 90, 255], [255, 40, 40], [40, 200, 40],
                    [255, 200, 0], [200, 0, 200], [0, 200, 200], [255, 128, 0]], np.uint8)


def _fmt(v):
    if isinstance(v, (bool, np.bool_)):
        return 'true' if v else 'false'
    if isinstance(v, (float, np.floating)):
        return '' if not math.isfinite(v) else f'{float(v):.6g}'
    return v


def write_csv(path: str, fields: Sequence[str], rows: Sequence[dict]) -> None:
    """CSV with ``fields`` as header; missing values and NaN are empty cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k, '')) for k in fields})
    write_text_atomic(path, buf.getvalue())


def _column_strings(values, n: int) -> Sequence[str]:
    """CSV cells of a column: an array of ``n`` values (floats as ``%.6g``, NaN empty, bools
    true/false) or one scalar repeated."""
    if np.ndim(values) == 0:
        return [str(_fmt(values))] * n
    arr = np.asarray(values)
    if arr.dtype == bool:
        return np.where(arr, 'true', 'false').tolist()
    if arr.dtype.kind == 'f':
        out = np.char.mod('%.6g', arr)
        return np.where(np.isfinite(arr), out, '').tolist()
    return arr.astype(str).tolist()


class StreamingCSV:
    """A CSV written block by block (e.g. one image's particles at a time, so memory holds one
    image's rows) into a temporary file beside ``path``, renamed to ``path`` by :meth:`commit`;
    :meth:`discard` - or an exception inside a ``with`` block - removes it, so no half-written
    file is ever left at ``path``."""

    def __init__(self, path: str, fields: Sequence[str]) -> None:
        self.path, self.fields = path, list(fields)
        directory = osp.dirname(osp.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=directory, prefix=f'.{osp.basename(path)}.',
                                        suffix='.tmp')
        self._file = os.fdopen(fd, 'w', newline='', encoding='utf-8')
        self._writer = csv.writer(self._file, lineterminator='\n')
        self._writer.writerow(self.fields)

    def write_columns(self, columns: Dict[str, object], n: int, block: int = 50000) -> None:
        """Write ``n`` rows from ``{field: array of n values, or a scalar}``, ``block`` rows
        at a time (their cells as Python strings are many times the arrays' size)."""
        for start in range(0, n, block):
            m = min(block, n - start)
            cells = []
            for f in self.fields:
                v = columns.get(f, '')
                cells.append(_column_strings(v if np.ndim(v) == 0 else v[start:start + m], m))
            self._writer.writerows(zip(*cells))

    def commit(self) -> None:
        self._file.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        if osp.exists(self.tmp):
            os.unlink(self.tmp)

    def __enter__(self) -> 'StreamingCSV':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or osp.exists(self.tmp):
            self.discard()


def write_png(path: str, array: np.ndarray, rgb: bool = False) -> None:
    """PNG of a grey/index ``(H, W)`` or RGB ``(H, W, 3)`` array (``rgb``: RGB order)."""
    if rgb:
        array = np.ascontiguousarray(array[..., ::-1])
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'could not encode {path} as PNG')
    write_bytes_atomic(path, buf.tobytes())


def colorize(mask: np.ndarray) -> np.ndarray:
    """RGB ``(H, W, 3)`` picture of an index mask (``IGNORE``: black)."""
    out = PALETTE[np.minimum(mask, len(PALETTE) - 1)]
    out[mask == IGNORE] = 0
    return out


def overlay(image: Optional[np.ndarray], mask: np.ndarray, alpha: float = 0.45,
            data_bar_rows: int = 0) -> np.ndarray:
    """RGB overlay: classes >= 1 painted over the micrograph (``image`` uint8 grey/RGB, or
    ``None`` for :func:`colorize`); a data bar is left unpainted below a yellow line."""
    if image is None:
        return colorize(mask)
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image.copy()
    paint = (mask != 0) & (mask != IGNORE)
    colours = PALETTE[np.minimum(mask, len(PALETTE) - 1)].astype(np.float32)
    rgb[paint] = np.rint((1 - alpha) * rgb[paint] + alpha * colours[paint]).astype(np.uint8)
    if data_bar_rows:
        y = mask.shape[0] - data_bar_rows
        rgb[max(y - 1, 0):y + 1] = (255, 230, 0)
    return rgb


def field_statistics(summary_rows: Sequence[dict], class_names: Sequence[str]) -> List[dict]:
    """Mean area fraction per class over the images, with the 95 % confidence interval of the
    field-to-field spread (ASTM E1245: ``CI = t(0.975, n-1) s / sqrt(n)``, ``%RA = CI / mean``).
    """
    from scipy import stats
    out = []
    for name in class_names:
        v = np.array([r['area_fraction'] for r in summary_rows if r['class'] == name], float)
        v = v[np.isfinite(v)]
        n = v.size
        mean = float(v.mean()) if n else float('nan')
        s = float(v.std(ddof=1)) if n > 1 else float('nan')
        ci = float(stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)) if n > 1 else float('nan')
        out.append(dict(**{'class': name}, images=n, area_fraction_mean=mean,
                        area_fraction_std=s, ci95=ci,
                        relative_accuracy_pct=100 * ci / mean if n > 1 and mean > 0
                        else float('nan')))
    return out


def histogram_png(path: str, panels: Dict[str, np.ndarray], unit: str, title: str) -> bool:
    """One histogram panel per non-empty ``{label: values}`` entry; False if all are empty."""
    panels = {k: v for k, v in panels.items() if np.size(v)}
    if not panels:
        return False
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3), squeeze=False)
    for ax, (label, values) in zip(axes[0], panels.items()):
        ax.hist(values, bins=min(40, max(5, int(np.sqrt(len(values))))), color='#3470c0')
        ax.set_xlabel(f'{label} ({unit})')
        ax.set_ylabel('count')
        ax.set_title(f'{label}: n={len(values)}, mean {np.mean(values):.3g}', fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=80)
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())
    return True


def thumbnail(path: str, rgb: np.ndarray, max_side: int = 768) -> None:
    """Downscaled JPEG of an RGB (or grey) image for the report."""
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    if scale < 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if rgb.ndim == 3:
        rgb = rgb[..., ::-1]
    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(rgb), [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise OSError(f'could not encode {path}')
    write_bytes_atomic(path, buf.tobytes())
