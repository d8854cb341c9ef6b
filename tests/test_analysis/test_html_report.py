"""csunet.analysis.html_report: the report a metallographer hands on. Numbers formatted with
units, per material only its columns, a page no wider than the window (checked in a real browser
when Chromium is installed), on the report of a real (tiny, synthetic) analysis."""
import csv
import html
import re
import shutil
import subprocess

import cv2
import pytest

from csunet.analysis.html_report import format_number, role_tables, write_report
from csunet.analysis.pipeline import AnalysisOptions, analyse

# rows as the pipeline builds them (measure.measure_mask): crack count and length on the crack
# row, thickness on the oxide row, no number density for the matrix
SUPER = [
    dict(image='a', **{'class': 'matrix'}, area_fraction=0.478123, width_mean=16.6012,
         width_median=15.0, width_std=4.2, unit='nm', pixel_size=9.8,
         calibration_source='command line', number_density=''),
    dict(image='a', **{'class': 'secondary'}, area_fraction=0.49984, count=33, count_border=14,
         number_density=0.000808716, ecd_mean=60.369, ecd_median=58.8599, ecd_std=20.5,
         unit='nm', pixel_size=9.8, calibration_source='command line'),
    dict(image='a', **{'class': 'tertiary'}, area_fraction=0.0297852, count=112, count_border=5,
         number_density=2.5e-6, ecd_mean=8.78885, ecd_median=8.36828, ecd_std='',
         unit='nm', pixel_size=9.8, calibration_source='command line'),
]
EBC = [
    dict(image='e', **{'class': 'background'}, area_fraction=0.849263, unit='px', pixel_size=1,
         calibration_source='none (pixels)'),
    dict(image='e', **{'class': 'oxide'}, area_fraction=0.147122, thickness_mean=86.4109,
         thickness_median=103.938, thickness_std=48.8525, thickness_min=1,
         thickness_max=162.573, unit='px', pixel_size=1, calibration_source='none (pixels)'),
    dict(image='e', **{'class': 'crack'}, area_fraction=0.00361443, crack_count=12,
         crack_length=612.25, unit='px', pixel_size=1, calibration_source='none (pixels)'),
]
LONG_NAME = 'Super1_test_annot_#27_a_long_micrograph_name_without_any_spaces_1024x1024_9.8nm'


def test_numbers_have_meaningful_digits():
    assert format_number(0.478123, 'pct') == '47.8'
    assert format_number(0.0297852, 'pct') == '2.98'
    # three significant digits shown even when they are zeros
    assert format_number(0.92, 'pct') == '92.0' and format_number(9.0) == '9.00'
    assert format_number(60.369) == '60.4' and format_number(162.573) == '163'
    assert format_number(999.7) == '1,000' and format_number(1234567.8) == '1,234,568'
    assert format_number(33.0, 'count') == '33' and format_number(12345, 'count') == '12,345'
    assert format_number(0.000808716) == '8.09 × 10⁻⁴'
    assert format_number('') == format_number(None) == format_number(float('nan')) == '–'
    assert format_number(0) == '0'


def test_each_material_gets_only_its_columns():
    tables = {title: (headers, rows) for title, headers, rows in role_tables(SUPER + EBC)}
    particles = tables['Precipitates (γ′ and other particle classes)']
    assert particles[0] == ['Image', 'Class', 'Area fraction (%)', 'Particles',
                            'At the edge (not sized)', 'Number density (per µm²)',
                            'ECD mean (nm)', 'ECD median (nm)', 'ECD std (nm)']
    # density per nm² shown per µm²; a missing std is a dash, not an empty cell
    assert particles[1][0][2:6] == ['50.0', '33', '14', '809'] and particles[1][1][-1] == '–'
    matrix = tables['γ matrix']
    assert matrix[0] == ['Image', 'Class', 'Area fraction (%)', 'Channel width mean (nm)',
                         'Channel width median (nm)', 'Channel width std (nm)']
    layer = tables['Oxide layer (cracks counted as layer)']
    assert layer[0] == ['Image', 'Class', 'Area fraction (%)', 'Thickness mean (px)',
                        'Thickness median (px)', 'Thickness std (px)', 'Thickness min (px)',
                        'Thickness max (px)']
    cracks = tables['Cracks']
    assert cracks == (['Image', 'Class', 'Area fraction (%)', 'Cracks',
                       'Total crack length (px)'], [['e', 'crack', '0.361', '12', '612']])
    assert tables['Background'] == (['Image', 'Class', 'Area fraction (%)'],
                                    [['e', 'background', '84.9']])
    assert not any('Oxide' in t or 'Crack' in t for t, _, _ in role_tables(SUPER))
    assert not any('γ' in t for t, _, _ in role_tables(EBC))


def test_mixed_units_get_a_unit_column():
    rows = [dict(SUPER[1]), dict(SUPER[1], image='b', unit='px', pixel_size=1)]
    (_, headers, body), = role_tables(rows)
    assert 'ECD mean' in headers and headers[-1] == 'Unit'
    assert [r[-1] for r in body] == ['nm', 'px']


@pytest.fixture(scope='module')
def analysed(tmp_path_factory):
    """Reports of a real analysis of synthetic label masks: a superalloy (calibrated in nm, one
    long file name, one unreadable file) and an EBC (uncalibrated)."""
    from csunet.datasets.synthetic import make_sample
    root = tmp_path_factory.mktemp('analysis')
    out = {}
    for material, names in (('super', ['s0', LONG_NAME]), ('ebc', ['e0', 'e1'])):
        src = root / f'{material}_in'
        src.mkdir()
        for k, name in enumerate(names):
            cv2.imwrite(str(src / f'{name}.png'), make_sample(material, (192, 256), k)[1])
        options = dict(pixel_size=9.8, unit='nm') if material == 'super' else {}
        if material == 'super':
            (src / 'broken.tif').write_bytes(b'junk')
        rc = analyse(AnalysisOptions(inputs=[str(src)], out=str(root / material), masks=True,
                                     material=material, **options))
        assert rc == (1 if material == 'super' else 0)
        out[material] = root / material
    return out


def _tables(text):
    """``[(headers, rows)]`` of the report's data tables (cells as shown, unescaped)."""
    found = []
    for table in re.findall(r'<div class="tbl"><table>(.*?)</table>', text):
        headers = [html.unescape(h) for h in re.findall(r'<th(?: [^>]*)?>(.*?)</th>', table)]
        rows = [[html.unescape(c) for c in re.findall(r'<td[^>]*>(.*?)</td>', row)]
                for row in re.findall(r'<tr>(.*?)</tr>', table.split('</thead>')[1])]
        found.append((headers, rows))
    return found


def _significant_digits(cell):
    digits = re.sub(r'[^0-9]', '', cell.split('×')[0]).lstrip('0')
    return len(digits)


_FROM_SUPERSCRIPT = str.maketrans('⁻⁰¹²³⁴⁵⁶⁷⁸⁹', '-0123456789')


def _value(cell):
    """The number a formatted cell shows (``8.09 × 10⁻⁴``, ``1,234``, ``47.8``)."""
    if '×' in cell:
        mantissa, power = cell.split(' × 10')
        return float(mantissa) * 10.0**int(power.translate(_FROM_SUPERSCRIPT))
    return float(cell.replace(',', ''))


def test_report_of_a_real_analysis_is_formatted(analysed):
    for material in ('super', 'ebc'):
        text = (analysed[material] / 'report.html').read_text()
        with open(analysed[material] / 'summary.csv', newline='') as f:
            summary = {(r['image'], r['class']): r for r in csv.DictReader(f)}
        tables = _tables(text)
        headers_seen = set()
        for headers, rows in tables[1:]:  # tables[0]: field statistics
            headers_seen.update(headers)
            assert headers[:2] == ['Image', 'Class']
            for col, header in enumerate(headers[2:], 2):
                cells = [r[col] for r in rows]
                assert set(cells) != {'–'}, f'{header}: a column empty for every row'
                field = re.sub(r' \(.*', '', header)
                for row, cell in zip(rows, cells):
                    if cell == '–':
                        continue
                    assert re.fullmatch(r'-?\d{1,3}(,\d{3})*(\.\d+)?( × 10[⁻⁰-⁹]+)?', cell), \
                        f'{header}: {cell!r} is not a formatted number'
                    assert _significant_digits(cell) <= 3 or ',' in cell or \
                        '.' not in cell, f'{header}: {cell!r} has too many digits'
                    # the number shown is the CSV's, rounded to what is shown
                    raw = summary[(row[0], row[1])]
                    key = {'Area fraction': 'area_fraction', 'Particles': 'count',
                           'ECD mean': 'ecd_mean', 'Thickness max': 'thickness_max',
                           'Cracks': 'crack_count', 'Total crack length': 'crack_length',
                           'Channel width mean': 'width_mean'}.get(field)
                    if key:
                        expected = float(raw[key]) * (100 if key == 'area_fraction' else 1)
                        assert _value(cell) == pytest.approx(expected, rel=5e-3, abs=5e-3)
        if material == 'super':
            assert {'Area fraction (%)', 'Number density (per µm²)', 'ECD mean (nm)',
                    'Channel width mean (nm)'} <= headers_seen
            assert not [h for h in headers_seen if 'Thickness' in h or 'rack' in h]
            assert '9.8 nm per pixel, from command line' in text
            assert 'broken.tif: unreadable TIFF' in text
            assert f'<td class="name">{html.escape(LONG_NAME)}</td>' in text
        else:
            assert {'Thickness mean (px)', 'Thickness max (px)', 'Cracks',
                    'Total crack length (px)'} <= headers_seen
            assert not [h for h in headers_seen if 'ECD' in h or 'Channel' in h]
            assert 'none, sizes in pixels (2 images)' in text
        assert tables[0][0][2] == 'Area fraction mean (%)'
        assert re.search(r'<td>Date</td><td>\d{4}-\d\d-\d\d \d\d:\d\d</td>', text)
        assert 'from label masks' in text
        assert 'max-width:1100px' in text and '@media print' in text
        assert 'overflow-wrap:anywhere' in text
    # the CSVs stay at full precision for machines
    with open(analysed['super'] / 'summary.csv', newline='') as f:
        fractions = [r['area_fraction'] for r in csv.DictReader(f)]
    assert max(_significant_digits(v) for v in fractions) >= 5


CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which(
    'google-chrome')
PROBE = """<script>window.addEventListener('load', function () {
  var page = document.documentElement, worst = 0;
  document.querySelectorAll('.tbl').forEach(function (t) {
    worst = Math.max(worst, t.scrollWidth - t.clientWidth); });
  var wide = 0;
  document.querySelectorAll('img').forEach(function (i) {
    wide = Math.max(wide, i.getBoundingClientRect().right - page.clientWidth);
    if (!i.complete || !i.naturalWidth) { wide = 1e9; } });
  document.title = 'W' + page.scrollWidth + '/' + window.innerWidth + '/' + worst + '/' + wide;
});</script>"""


def _layout(report, tmp_path, width):
    """``(page width, window width, widest table overflow, widest image overflow)`` in px, as
    Chromium lays the report out in a window ``width`` px wide (an unloaded image: 1e9)."""
    probe = report.parent / f'probe_{width}.html'
    probe.write_text(report.read_text() + PROBE)
    dom = subprocess.run(
        [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
         f'--user-data-dir={tmp_path / "profile"}', f'--window-size={width},1400',
         '--virtual-time-budget=10000', '--dump-dom', probe.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    probe.unlink()
    found = re.search(r'<title>W(\d+)/(\d+)/(-?\d+)/(-?[\d.e+]+)</title>', dom)
    assert found, dom[:500]
    return tuple(float(v) for v in found.groups())


@pytest.mark.skipif(CHROMIUM is None,
                    reason='no Chromium binary (chromium, chromium-browser, google-chrome) to '
                    'render the report: apt-get install chromium; the HTML itself is checked by '
                    'test_report_of_a_real_analysis_is_formatted')
def test_report_fits_the_window_in_a_real_browser(analysed, tmp_path):
    """Chromium lays out the superalloy report (the widest tables, a long unbroken file name):
    at 1024 px nothing is wider than the window, no table needs its scroll bar and every image
    is loaded and fits; at 480 px (a phone) the page still is no wider than the window (a table
    may scroll inside its box there). The screenshot at 1024 px is a non-blank page."""
    report = analysed['super'] / 'report.html'
    page, window, table, image = _layout(report, tmp_path, 1024)
    assert page <= window, f'page {page} px wide in a {window} px window'
    assert table <= 0, f'a table overflows its box by {table} px at 1024 px'
    assert image <= 0, f'an image is {image} px too wide or did not load'
    page, window, _, image = _layout(report, tmp_path, 480)
    assert page <= window and image <= 0, f'page {page} px wide in a {window} px window'
    shot = tmp_path / 'report.png'
    subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                    f'--user-data-dir={tmp_path / "profile"}', '--window-size=1024,1400',
                    f'--screenshot={shot}', report.as_uri()], capture_output=True, timeout=120)
    picture = cv2.imread(str(shot))
    assert picture is not None and picture.shape[:2] == (1400, 1024)
    # text and tables on a white page: mostly white, with dark pixels (text) in the top half
    top = picture[:700].mean(axis=2)
    assert (top > 250).mean() > 0.5 and (top < 100).mean() > 0.005


def test_write_report_escapes_and_lists_failures(tmp_path):
    path = tmp_path / 'report.html'
    write_report(str(path), 'a <b> title', [], SUPER,
                 [dict(name='a<1>', info='x & y', pictures=[], histogram=None)],
                 [('bad.tif', 'not a TIFF')], notes=['model c.py + w.pth'])
    text = path.read_text()
    assert '<title>a &lt;b&gt; title</title>' in text and 'a&lt;1&gt;' in text
    assert 'x &amp; y' in text and 'bad.tif: not a TIFF' in text
    assert '<td>Input</td><td>model c.py + w.pth</td>' in text
    assert '9.8 nm per pixel, from command line (1 image)' in text
    assert '' not in re.findall(r'<td[^>]*>([^<]*)</td>', text)
