"""csunet.analysis.html_report: the report a metallographer hands on. Numbers formatted with
units, per material only its columns, a page no wider than the window (checked in a real browser
when Chromium is installed)."""
import re
import shutil
import subprocess

import pytest

from csunet.analysis.html_report import format_number, role_tables, write_report

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
         thickness_max=162.573, crack_count=12, crack_length=612.25, unit='px', pixel_size=1,
         calibration_source='none (pixels)'),
    dict(image='e', **{'class': 'crack'}, area_fraction=0.00361443, unit='px', pixel_size=1,
         calibration_source='none (pixels)'),
]
STATS = [dict(**{'class': 'secondary'}, images=1, area_fraction_mean=0.49984,
              area_fraction_std=float('nan'), ci95=float('nan'),
              relative_accuracy_pct=float('nan'))]


def test_numbers_have_meaningful_digits():
    assert format_number(0.478123, 'pct') == '47.8'
    assert format_number(0.0297852, 'pct') == '2.98'
    assert format_number(60.369) == '60.4' and format_number(162.573) == '163'
    assert format_number(1234567.8) == '1,234,568' and format_number(33.0, 'count') == '33'
    assert format_number(0.000808716) == '8.09 × 10⁻⁴'
    assert format_number('') == format_number(None) == format_number(float('nan')) == '–'
    assert format_number(0) == '0'


def test_each_material_gets_only_its_columns():
    tables = {title: (headers, rows) for title, headers, rows in role_tables(SUPER + EBC)}
    particles = tables['Precipitates (γ′ and other particle classes)']
    assert particles[0] == ['Image', 'Class', 'Area fraction (%)', 'Particles',
                            'of them at the edge', 'Number density (per µm²)', 'ECD mean (nm)',
                            'ECD median (nm)', 'ECD std (nm)']
    # density per nm² shown per µm²; a missing std is a dash, not an empty cell
    assert particles[1][0][2:6] == ['50', '33', '14', '809'] and particles[1][1][-1] == '–'
    matrix = tables['γ matrix']
    assert matrix[0] == ['Image', 'Class', 'Area fraction (%)', 'Channel width mean (nm)',
                         'Channel width median (nm)', 'Channel width std (nm)']
    layer = tables['Oxide layer (cracks counted as layer)']
    assert 'Thickness max (px)' in layer[0] and 'Cracks' in layer[0]
    assert not any('ECD' in h or 'Channel' in h for h in layer[0])
    other = tables['Other classes']  # background and crack: area fraction only
    assert other[0] == ['Image', 'Class', 'Area fraction (%)']
    assert [r[1] for r in other[1]] == ['background', 'crack']
    only_super = [t for t, _, _ in role_tables(SUPER)]
    assert not any('Oxide' in t for t in only_super)


def _report(tmp_path, rows):
    path = tmp_path / 'report.html'
    write_report(str(path), 'csunet analysis', STATS, rows,
                 [dict(name='a', info='a.png: 512x512 px', pictures=[], histogram=None)],
                 [('bad.tif', 'not a TIFF')], notes=['1 image analysed'])
    return path


def test_report_html_is_formatted(tmp_path):
    text = _report(tmp_path, SUPER).read_text()
    cells = re.findall(r'<td[^>]*>([^<]*)</td>', text)
    assert not [c for c in cells if re.fullmatch(r'-?\d+\.\d{4,}', c)], 'raw floats in cells'
    assert 'Area fraction mean (%)' in text and 'ECD mean (nm)' in text
    assert 'Thickness' not in text  # an EBC column in a superalloy report
    assert '9.8 nm per pixel (command line; 1 image)' in text
    assert 'max-width:1100px' in text and '@media print' in text
    assert 'bad.tif: not a TIFF' in text


CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which(
    'google-chrome')


@pytest.mark.skipif(CHROMIUM is None,
                    reason='no Chromium to render the report (apt-get install chromium); the '
                    'HTML itself is checked by test_report_html_is_formatted')
def test_report_fits_the_window_in_a_real_browser(tmp_path):
    """Chromium lays the report out at 800 px: the page is no wider than the window (every table
    wraps), and the screenshot is written."""
    path = _report(tmp_path, SUPER + EBC)
    probe = tmp_path / 'probe.html'
    probe.write_text(path.read_text() + '<script>document.title = "W" + '
                     'document.documentElement.scrollWidth + "/" + window.innerWidth;</script>')
    flags = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
             '--window-size=800,1200']
    dom = subprocess.run(flags + ['--dump-dom', probe.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    widths = re.search(r'<title>W(\d+)/(\d+)</title>', dom)
    assert widths, dom[:500]
    assert int(widths[1]) <= int(widths[2]), f'page {widths[1]} px wide in an {widths[2]} window'
    shot = tmp_path / 'report.png'
    subprocess.run(flags + [f'--screenshot={shot}', path.as_uri()], capture_output=True,
                   timeout=120)
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
