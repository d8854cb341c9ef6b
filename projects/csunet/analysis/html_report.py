"""``report.html`` of ``tools/analyze.py``: the numbers a metallographer hands on, readable.

The CSV files keep every value at full precision for machines; the report shows

* numbers to 3 significant digits, trailing zeros kept (``92.0``, not ``92``: the digits shown
  are the digits meant; thousands separated; very small ones as ``8.09 × 10⁻⁵``), counts as
  integers, a missing value as an en dash, area fractions in %;
* units in the column headers (``µm``, ``nm`` or ``px``; number density per unit², per µm² for
  nm), with the calibration and its source stated once at the top;
* per material only its columns: a table per role of the classes (superalloy: γ′ precipitates
  with counts, density and ECD, γ matrix with channel width; EBC: oxide layer thickness,
  cracks with count and length; the rest: area fraction), and in each table only the columns
  that hold a value for some row;
* a page that fits the screen and prints: tables never wider than the text column (headers and
  long names wrap; a horizontal scroll bar only as a last resort), images scaled to fit, table
  headers repeated on each printed page.
"""
import datetime
import html
import math
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from ..fileio import write_text_atomic
from .measure import class_roles

__all__ = ['format_number', 'unit_label', 'role_tables', 'write_report']

_SUPERSCRIPT = str.maketrans('-0123456789', '⁻⁰¹²³⁴⁵⁶⁷⁸⁹')
DASH = '–'

#: Per role: its title and its columns as (summary field, header, kind); kind: 'pct' (fraction
#: shown in %), 'count', 'length' (in the unit), 'density' (per unit²).
ROLE_COLUMNS: Dict[str, Tuple[str, List[Tuple[str, str, str]]]] = OrderedDict(
    particles=('Precipitates (γ′ and other particle classes)', [
        ('area_fraction', 'Area fraction (%)', 'pct'),
        ('count', 'Particles', 'count'),
        ('count_border', 'At the edge (not sized)', 'count'),
        ('number_density', 'Number density', 'density'),
        ('ecd_mean', 'ECD mean', 'length'),
        ('ecd_median', 'ECD median', 'length'),
        ('ecd_std', 'ECD std', 'length'),
    ]),
    matrix=('γ matrix', [
        ('area_fraction', 'Area fraction (%)', 'pct'),
        ('width_mean', 'Channel width mean', 'length'),
        ('width_median', 'Channel width median', 'length'),
        ('width_std', 'Channel width std', 'length'),
    ]),
    layer=('Oxide layer (cracks counted as layer)', [
        ('area_fraction', 'Area fraction (%)', 'pct'),
        ('thickness_mean', 'Thickness mean', 'length'),
        ('thickness_median', 'Thickness median', 'length'),
        ('thickness_std', 'Thickness std', 'length'),
        ('thickness_min', 'Thickness min', 'length'),
        ('thickness_max', 'Thickness max', 'length'),
    ]),
    crack=('Cracks', [
        ('area_fraction', 'Area fraction (%)', 'pct'),
        ('crack_count', 'Cracks', 'count'),
        ('crack_length', 'Total crack length', 'length'),
    ]),
    other=('Background', [
        ('area_fraction', 'Area fraction (%)', 'pct'),
    ]),
)

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;
  max-width:1100px;margin:0 auto;padding:1.2em 1.5em;line-height:1.4;font-size:15px}
h1{font-size:1.5em;margin-bottom:.3em}h2{font-size:1.2em;margin-top:1.6em;
  border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em;margin:1.4em 0 .2em}
h1,h2,h3,p,li{overflow-wrap:anywhere}
.meta{color:#555;font-size:.92em;overflow-wrap:anywhere}
table.meta td{border:none;padding:1px 12px 1px 0;text-align:left;vertical-align:top}
table.meta td:first-child{white-space:nowrap;font-weight:600}
.tbl{max-width:100%;overflow-x:auto;margin:.4em 0}
table{border-collapse:collapse;font-size:13px;max-width:100%}
th,td{border:1px solid #ccc;padding:3px 8px}
th{background:#eef1f5;text-align:left;vertical-align:bottom;font-weight:600}
th.n{text-align:right}
td.name{overflow-wrap:anywhere;min-width:6em}td.cls{white-space:nowrap}
.tbl tbody tr:nth-child(even){background:#f8f9fb}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pics{display:flex;flex-wrap:wrap;gap:8px}.pics img{max-width:calc(50% - 4px);height:auto}
img.hist{max-width:100%;height:auto}
.fail{color:#a00;overflow-wrap:anywhere}
@media (max-width:700px){body{padding:.8em}table{font-size:12px}th,td{padding:2px 4px}}
@media print{@page{margin:14mm}body{max-width:none;padding:0;font-size:10.5pt}
  table{font-size:8.5pt}.tbl{overflow:visible}thead{display:table-header-group}
  tr,h3,.pics,img.hist{break-inside:avoid}h2,h3{break-after:avoid}
  .tbl tbody tr:nth-child(even){background:none}}
"""


def format_number(value, kind: str = 'number') -> str:
    """A value for a person: 3 significant digits, thousands separated, ``kind='pct'``: a
    fraction in %, ``'count'``: an integer; a missing or non-finite value is an en dash."""
    if value is None or value == '':
        return DASH
    try:
        v = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if not math.isfinite(v):
        return DASH
    if kind == 'count':
        return f'{int(round(v)):,}'
    if kind == 'pct':
        v *= 100
    if v == 0:
        return '0'
    if abs(v) >= 999.5:  # rounds to 4+ digits: all of them, not '1e+03'
        return f'{v:,.0f}'
    if abs(v) < 1e-3:
        mantissa, exponent = f'{v:.2e}'.split('e')
        return f'{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}'
    return f'{v:#.3g}'.rstrip('.')


def unit_label(unit: str) -> str:
    """``'um'`` -> ``'µm'``; ``'nm'``, ``'px'`` as they are."""
    return {'um': 'µm'}.get(unit, unit)


def _per_um2(value):
    """A number density per nm² as per µm² (a readable magnitude for γ′ precipitates)."""
    try:
        return float(value) * 1e6
    except (TypeError, ValueError):
        return value


def _header(name: str, kind: str, unit: Optional[str]) -> str:
    if unit is None:
        return name
    u = unit_label(unit)
    if kind == 'length':
        return f'{name} ({u})'
    if kind == 'density':
        return f'{name} (per {"µm" if unit == "nm" else u}²)'
    return name


def role_tables(summary_rows: Sequence[dict]) -> List[Tuple[str, List[str], List[List[str]]]]:
    """``(title, headers, rows)`` per role present, each with only the columns that hold a value
    for some of its rows; cells formatted (:func:`format_number`)."""
    classes = list(OrderedDict.fromkeys(r['class'] for r in summary_rows))
    roles = dict(zip(classes, class_roles(classes)))
    tables = []
    for role, (title, columns) in ROLE_COLUMNS.items():
        rows = [r for r in summary_rows
                if roles[r['class']] == role
                or (role == 'other' and roles[r['class']] not in ROLE_COLUMNS)]
        if not rows:
            continue
        units = {r.get('unit') for r in rows}
        unit = units.pop() if len(units) == 1 else None
        kept = [c for c in columns if any(format_number(r.get(c[0]), c[2]) != DASH
                                          for r in rows)]
        headers = ['Image', 'Class'] + [_header(h, k, unit) for _, h, k in kept]
        if unit is None:
            headers.append('Unit')
        body = []
        for r in rows:
            cells = [html.escape(str(r['image'])), html.escape(str(r['class']))]
            cells += [format_number(_per_um2(r.get(f)) if k == 'density' and unit == 'nm'
                                    else r.get(f), k) for f, _, k in kept]
            if unit is None:
                cells.append(html.escape(unit_label(str(r.get('unit', '')))))
            body.append(cells)
        tables.append((title, headers, body))
    return tables


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int,
           text_classes: Sequence[str] = ('cls', )) -> str:
    """Columns from ``numeric_from`` on are numbers; those before it get ``text_classes``
    (``name``: long file names may wrap anywhere, ``cls``: class names never wrap)."""
    def cls(i):
        if i >= numeric_from:
            return ' class="n"'
        return f' class="{text_classes[i]}"' if i < len(text_classes) else ''

    head = ''.join(f'<th{cls(i)}>{html.escape(h)}</th>' for i, h in enumerate(headers))
    body = ''.join('<tr>' + ''.join(f'<td{cls(i)}>{c}</td>' for i, c in enumerate(row)) +
                   '</tr>' for row in rows)
    # thead: a printed table repeats its header on every page
    return (f'<div class="tbl"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def _calibration(summary_rows: Sequence[dict]) -> str:
    seen = OrderedDict()
    for r in summary_rows:
        unit = r.get('unit', '')
        key = (unit, r.get('pixel_size', ''), r.get('calibration_source', ''))
        seen.setdefault(key, []).append(r['image'])
    parts = []
    for (unit, size, source), images in seen.items():
        n = len(OrderedDict.fromkeys(images))
        count = f'{n} image{"s" * (n != 1)}'
        if unit == 'px':
            parts.append(f'none, sizes in pixels ({count})')
            continue
        try:  # the pixel size as calibrated, not rounded: every size derives from it
            size = f'{float(size):.6g}'
        except (TypeError, ValueError):
            size = str(size)
        parts.append(f'{html.escape(size)} {unit_label(unit)} per pixel, from '
                     f'{html.escape(str(source))} ({count})')
    return '<br>'.join(parts) or DASH


def write_report(path: str, title: str, field_stats: Sequence[dict],
                 summary_rows: Sequence[dict], images: Sequence[dict],
                 failures: Sequence[tuple], notes: Sequence[str] = ()) -> None:
    """``report.html`` (see the module docstring): the header (what was analysed, calibration,
    date), area fractions over the fields, a table per role of the classes, the files not
    analysed, and per image its pictures (paths relative to the report) and histograms."""
    esc = html.escape
    n_images = len(OrderedDict.fromkeys(r['image'] for r in summary_rows))
    parts = [f'<!doctype html><html lang="en"><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width, initial-scale=1">'
             f'<title>{esc(title)}</title><style>{CSS}</style>', f'<h1>{esc(title)}</h1>']
    meta = [('Analysed', f'{n_images} image{"s" * (n_images != 1)}')]
    meta += [('Input' if i == 0 else '', esc(n)) for i, n in enumerate(notes)]
    meta += [('Calibration', _calibration(summary_rows)),
             ('Date', datetime.datetime.now().strftime('%Y-%m-%d %H:%M'))]
    parts.append('<table class="meta">' + ''.join(
        f'<tr><td>{k}</td><td>{v}</td></tr>' for k, v in meta) + '</table>')

    parts.append('<h2>Area fractions over the fields</h2>')
    parts.append('<p class="meta">Mean over the images, standard deviation, 95 % confidence '
                 'interval <i>t</i>(0.975, <i>n</i>−1)·<i>s</i>/√<i>n</i> and relative accuracy '
                 '(CI / mean), as in ASTM E1245.</p>')
    stats_rows = [[esc(str(s['class'])), format_number(s['images'], 'count'),
                   format_number(s['area_fraction_mean'], 'pct'),
                   format_number(s['area_fraction_std'], 'pct'),
                   format_number(s['ci95'], 'pct'),
                   format_number(s['relative_accuracy_pct'])] for s in field_stats]
    parts.append(_table(['Class', 'Images', 'Area fraction mean (%)', 'Std (%)',
                         '95\u00a0% CI (±\u00a0%)', 'Relative accuracy (%)'], stats_rows, 1))
    if failures:
        parts.append('<h2>Files not analysed</h2><ul class="fail">' + ''.join(
            f'<li>{esc(p)}: {esc(r)}</li>' for p, r in failures) + '</ul>')
    for title_, headers, rows in role_tables(summary_rows):
        parts.append(f'<h2>{esc(title_)}</h2>')
        parts.append(_table(headers, rows, 2, ('name', 'cls')))
    parts.append('<h2>Images</h2>')
    for item in images:
        parts.append(f'<h3>{esc(item["name"])}</h3><p class="meta">{esc(item["info"])}</p>')
        # quote(): file names may hold '#', '%' or spaces (NASA's EBC names do)
        parts.append('<div class="pics">' + ''.join(
            f'<img src="{esc(quote(p))}" alt="{esc(p.rsplit("/", 1)[-1])}">'
            for p in item['pictures']) + '</div>')
        if item.get('histogram'):
            parts.append(f'<img class="hist" src="{esc(quote(item["histogram"]))}" '
                         'alt="histograms">')
    write_text_atomic(path, '\n'.join(parts) + '\n')
