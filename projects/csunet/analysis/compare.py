"""Predicted vs ground-truth measurements: how far a model's numbers are from the truth's.

Both sides are ``summary.csv`` files of ``tools/analyze.py`` (the truth from ``--masks``, the
prediction from a model on the same images), so both are measured by the same code. Images are
paired by name, a trailing ``_mask`` / ``_annot`` / ``_label`` of a mask's name ignored.
Classes that the truth splits and a model merges are compared merged (:data:`MERGED`: an EBC
model's ``oxide`` holds NASA's cracks, so the truth's ``oxide`` + ``crack`` area fraction is its
counterpart; the thickness in ``summary.csv`` already counts cracks as layer).
"""
import csv
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

#: class -> the truth's classes whose area fractions add up to it (when the prediction has no
#: class of their own).
MERGED = {'oxide': ('oxide', 'crack')}

#: ``summary.csv`` columns compared, in order, with their labels (area fractions are shown in %).
QUANTITIES: Sequence[Tuple[str, str]] = (
    ('area_fraction', 'area fraction (%)'),
    ('count', 'particles per image'),
    ('ecd_mean', 'ECD mean'),
    ('ecd_median', 'ECD median'),
    ('width_mean', 'channel width mean'),
    ('width_median', 'channel width median'),
    ('thickness_mean', 'thickness mean'),
    ('thickness_median', 'thickness median'),
    ('thickness_max', 'thickness max'),
)

_MASK_SUFFIX = re.compile(r'(_mask|_annot|_label|_labels|_gt)$', re.I)


class CompareError(ValueError):
    """The two summaries cannot be paired (named in the message)."""


def read_summary(path: str) -> Dict[Tuple[str, str], dict]:
    """``{(image, class): row}`` of an ``analyze.py`` ``summary.csv``."""
    try:
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise CompareError(f'{path}: {err.strerror or err}') from err
    if not rows or not {'image', 'class', 'area_fraction'} <= set(rows[0]):
        raise CompareError(f'{path}: not a summary.csv of tools/analyze.py (needs image, class, '
                           f'area_fraction columns)')
    return {(r['image'], r['class']): r for r in rows}


def _value(row: Optional[dict], key: str) -> Optional[float]:
    text = (row or {}).get(key, '')
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _pair_images(truth: Sequence[str], pred: Sequence[str]) -> List[Tuple[str, str]]:
    by_stem = {}
    for name in truth:
        by_stem.setdefault(_MASK_SUFFIX.sub('', name), name)
    pairs, missing = [], []
    for name in sorted(pred):
        t = name if name in truth else by_stem.get(_MASK_SUFFIX.sub('', name))
        (pairs.append((t, name)) if t else missing.append(name))
    if missing:
        raise CompareError(f'no ground truth for the predicted image(s) {missing} among '
                           f'{sorted(truth)}')
    if not pairs:
        raise CompareError('no image in common')
    return pairs


def _truth_value(truth: dict, image: str, cls: str, key: str,
                 truth_classes: Sequence[str], pred_classes: Sequence[str]) -> Optional[float]:
    parts = MERGED.get(cls, (cls,))
    if key == 'area_fraction' and len(parts) > 1 and not set(parts[1:]) & set(pred_classes):
        values = [_value(truth.get((image, c)), key) for c in parts if c in truth_classes]
        values = [v for v in values if v is not None]
        return sum(values) if values else None
    return _value(truth.get((image, cls)), key)


def compare_summaries(truth_csv: str, pred_csv: str) -> List[dict]:
    """One row per (class, quantity) measured on both sides: ``n`` images, the per-image
    ``truth`` and ``pred`` lists (paired), their means, the mean absolute error and the mean
    absolute error relative to the truth (%). Area fractions are in %."""
    truth, pred = read_summary(truth_csv), read_summary(pred_csv)
    truth_classes = sorted({c for _, c in truth})
    pred_classes = list(dict.fromkeys(c for _, c in pred))
    pairs = _pair_images(sorted({i for i, _ in truth}), sorted({i for i, _ in pred}))
    rows = []
    for cls in pred_classes:
        for key, label in QUANTITIES:
            t_vals, p_vals = [], []
            for t_img, p_img in pairs:
                t = _truth_value(truth, t_img, cls, key, truth_classes, pred_classes)
                p = _value(pred.get((p_img, cls)), key)
                if t is None and p is None:
                    continue
                # A class found on one side only: no particles is a count of 0, no size.
                if key == 'count':
                    t, p = t or 0.0, p or 0.0
                elif t is None or p is None:
                    continue
                scale = 100.0 if key == 'area_fraction' else 1.0
                t_vals.append(t * scale)
                p_vals.append(p * scale)
            if not t_vals:
                continue
            errors = [abs(p - t) for t, p in zip(t_vals, p_vals)]
            rel = [e / abs(t) * 100 for e, t in zip(errors, t_vals) if t]
            rows.append(dict(
                cls=cls, quantity=key, label=label, n=len(t_vals), truth=t_vals, pred=p_vals,
                truth_mean=sum(t_vals) / len(t_vals), pred_mean=sum(p_vals) / len(p_vals),
                mae=sum(errors) / len(errors),
                rel_error=sum(rel) / len(rel) if rel else None))
    return rows


def _g(v: Optional[float]) -> str:
    if v is None:
        return '–'
    return f'{v:.3g}' if abs(v) < 1000 else f'{v:,.0f}'


def markdown_table(rows: Sequence[dict], unit: str = 'px') -> str:
    """The comparison as a Markdown table (sizes in ``unit``)."""
    lines = ['| class | quantity | images | truth (mean) | predicted (mean) | mean abs. error | '
             'mean rel. error |', '|---|---|---|---|---|---|---|']
    for r in rows:
        label = r['label'] if r['quantity'] in ('area_fraction', 'count') else \
            f"{r['label']} ({unit})"
        rel = '–' if r['rel_error'] is None else f"{r['rel_error']:.0f} %"
        lines.append(f"| {r['cls']} | {label} | {r['n']} | {_g(r['truth_mean'])} | "
                     f"{_g(r['pred_mean'])} | {_g(r['mae'])} | {rel} |")
    return '\n'.join(lines)
