"""csunet.analysis.report: streamed CSV (no half-written file), E1245 statistics, overlays,
report links."""
import csv

import numpy as np
import pytest

from csunet.analysis import report


def test_streaming_csv_commit_and_discard(tmp_path):
    path = tmp_path / 'sub' / 'p.csv'
    with report.StreamingCSV(str(path), ['image', 'x', 'flag']) as out:
        out.write_columns(dict(image='a', x=np.array([1.5, np.nan]),
                               flag=np.array([True, False])), 2)
        assert not path.exists()  # nothing at the destination before commit
        out.commit()
    rows = list(csv.reader(open(path)))
    assert rows == [['image', 'x', 'flag'], ['a', '1.5', 'true'], ['a', '', 'false']]
    # an error inside the block: the old file stays, no temporary file is left
    with pytest.raises(RuntimeError):
        with report.StreamingCSV(str(path), ['image']) as out:
            out.write_columns(dict(image='b'), 1)
            raise RuntimeError('boom')
    assert list(csv.reader(open(path)))[1] == ['a', '1.5', 'true']
    assert [p.name for p in path.parent.iterdir()] == ['p.csv']
    # written in blocks: the same rows
    with report.StreamingCSV(str(path), ['i', 'tag']) as out:
        out.write_columns(dict(i=np.arange(7), tag='t'), 7, block=3)
        out.commit()
    assert list(csv.reader(open(path)))[1:] == [[str(i), 't'] for i in range(7)]


def test_field_statistics_e1245():
    rows = [dict(image=str(i), **{'class': 'oxide'}, area_fraction=v)
            for i, v in enumerate([0.10, 0.12, 0.14])]
    (s, ) = report.field_statistics(rows, ['oxide'])
    # mean 0.12, s = 0.02, t(0.975, 2) = 4.3027
    assert s['images'] == 3 and s['area_fraction_mean'] == pytest.approx(0.12)
    assert s['ci95'] == pytest.approx(4.302653 * 0.02 / np.sqrt(3), rel=1e-5)
    assert s['relative_accuracy_pct'] == pytest.approx(100 * s['ci95'] / 0.12)
    (one, ) = report.field_statistics(rows[:1], ['oxide'])
    assert np.isnan(one['ci95'])  # no spread from a single field


def test_overlay_paints_classes_and_marks_the_bar():
    img = np.full((10, 8), 100, np.uint8)
    mask = np.zeros((10, 8), np.uint8)
    mask[2:4] = 1
    mask[-3:] = 255
    over = report.overlay(img, mask, data_bar_rows=3)
    assert over.shape == (10, 8, 3)
    assert (over[0] == 100).all()  # class 0 unpainted
    assert not (over[2] == 100).all()  # class 1 painted
    assert (over[-3] == (255, 230, 0)).all()  # the bar's top edge


def test_report_links_are_url_quoted(tmp_path):
    report.write_report(str(tmp_path / 'r.html'), 't', [], [],
                        [dict(name='a#1', info='i', pictures=['report_files/a#1_overlay.jpg'],
                              histogram=None)], [('x.tif', 'bad')])
    html = (tmp_path / 'r.html').read_text()
    assert 'src="report_files/a%231_overlay.jpg"' in html and 'x.tif: bad' in html
