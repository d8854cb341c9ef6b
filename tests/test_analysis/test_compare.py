"""csunet.analysis.compare (tools/compare_measurements.py): predicted vs ground-truth summaries."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from csunet.analysis.compare import CompareError, compare_summaries, markdown_table

REPO = Path(__file__).resolve().parents[2]
FIELDS = ['image', 'class', 'area_fraction', 'count', 'ecd_mean', 'thickness_mean']


def write(path, rows):
    path.mkdir(parents=True, exist_ok=True)
    with open(path / 'summary.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, '') for k in FIELDS})
    return str(path / 'summary.csv')


def by(rows, cls, quantity):
    return next(r for r in rows if r['cls'] == cls and r['quantity'] == quantity)


def test_pairs_images_merges_cracks_and_measures_the_error(tmp_path):
    truth = write(tmp_path / 'gt', [
        dict(image='a_mask', **{'class': 'oxide'}, area_fraction=0.10, thickness_mean=50),
        dict(image='a_mask', **{'class': 'crack'}, area_fraction=0.02),
        dict(image='b_mask', **{'class': 'oxide'}, area_fraction=0.20, thickness_mean=100),
        dict(image='b_mask', **{'class': 'crack'}, area_fraction=0.00),
        dict(image='a_mask', **{'class': 'secondary'}, area_fraction=0.5, count=10, ecd_mean=8),
        dict(image='b_mask', **{'class': 'secondary'}, area_fraction=0.4, count=4, ecd_mean=6),
    ])
    pred = write(tmp_path / 'pred', [
        dict(image='a', **{'class': 'oxide'}, area_fraction=0.13, thickness_mean=60),
        dict(image='b', **{'class': 'oxide'}, area_fraction=0.18, thickness_mean=90),
        dict(image='a', **{'class': 'secondary'}, area_fraction=0.5, count=12, ecd_mean=6),
        dict(image='b', **{'class': 'secondary'}, area_fraction=0.4),  # none found: count 0
    ])
    rows = compare_summaries(truth, pred)
    oxide = by(rows, 'oxide', 'area_fraction')
    # the truth's oxide + crack (12 %, 20 %) against the model's oxide (13 %, 18 %), in %
    assert oxide['truth'] == pytest.approx([12.0, 20.0])
    assert oxide['mae'] == pytest.approx(1.5) and oxide['rel_error'] == pytest.approx(
        (1 / 12 + 2 / 20) / 2 * 100)
    thick = by(rows, 'oxide', 'thickness_mean')
    assert thick['truth_mean'] == 75 and thick['pred_mean'] == 75 and thick['mae'] == 10
    count = by(rows, 'secondary', 'count')
    assert count['truth'] == [10, 4] and count['pred'] == [12, 0] and count['mae'] == 3
    ecd = by(rows, 'secondary', 'ecd_mean')  # sizes only where both sides have particles
    assert ecd['n'] == 1 and ecd['mae'] == 2
    table = markdown_table(rows, 'px')
    assert '| oxide | area fraction (%) | 2 | 16 | 15.5 | 1.5 | 9 % |' in table
    assert '| secondary | ECD mean (px) | 1 |' in table


def test_unpaired_images_and_bad_files_are_named(tmp_path):
    truth = write(tmp_path / 'gt', [dict(image='a_mask', **{'class': 'oxide'},
                                         area_fraction=0.1)])
    pred = write(tmp_path / 'pred', [dict(image='zzz', **{'class': 'oxide'}, area_fraction=0.1)])
    with pytest.raises(CompareError,
                       match=r"no ground truth for the predicted image\(s\) \['zzz'\]"):
        compare_summaries(truth, pred)
    (tmp_path / 'other.csv').write_text('a,b\n1,2\n')
    with pytest.raises(CompareError, match='not a summary.csv'):
        compare_summaries(truth, str(tmp_path / 'other.csv'))
    with pytest.raises(CompareError, match='missing.csv'):
        compare_summaries(truth, str(tmp_path / 'missing.csv'))


def test_command_line(tmp_path):
    rows = [dict(image='a', **{'class': 'oxide'}, area_fraction=0.1)]
    write(tmp_path / 'gt', rows)
    write(tmp_path / 'pred', rows)
    tool = REPO / 'tools/compare_measurements.py'
    out = tmp_path / 'cmp.md'
    proc = subprocess.run([sys.executable, str(tool), str(tmp_path / 'gt'), str(tmp_path / 'pred'),
                           '-o', str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert '| oxide | area fraction (%) | 1 | 10 | 10 | 0 | 0 % |' in out.read_text()
    bad = subprocess.run([sys.executable, str(tool), str(tmp_path / 'gt'), str(tmp_path / 'x')],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and 'compare_measurements: error:' in bad.stderr
