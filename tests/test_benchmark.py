"""csunet.benchmark (tools/benchmark_speed_memory.py): CS-UNet vs the same-run Unet-r50 baseline,
each row in its own process, on tiny sizes (the real figures are in docs/benchmark.md)."""
import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from csunet import benchmark as bench

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / 'tools/benchmark_speed_memory.py'
ROW = re.compile(r'^(unet_r50|csunet_r50 swin=\w+)\s+\|\s+([\d.]+) M\s+\|\s+([\d.]+) s \(min '
                 r'[\d.]+\)\s+\|\s+([\d.]+)x\s+\|\s+([\d.]+) GB\s+\|\s+([\d.]+)x\s+\|\s+([\d.]+) '
                 r'GFLOP$')


def _run(*args):
    proc = subprocess.run([sys.executable, str(TOOL), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _sections(out):
    """{section title's first words: [parsed rows]}."""
    sections, current = {}, None
    for line in out.splitlines():
        if line.startswith(('train step', 'whole-image inference')):
            current = sections.setdefault(line.split(' (')[0], [])
        elif current is not None and line.startswith(('unet_r50', 'csunet_r50')):
            current.append(line)
    return sections


@pytest.mark.slow
def test_train_and_inference_rows_with_baseline_ratios():
    pytest.importorskip('segmentation_models_pytorch',
                        reason='optional: pip install --no-deps -r requirements/benchmark.txt')
    out = _run('--depths', 'intermediate', '--size', '64', '--batch', '1', '--steps', '1',
               '--warmup', '1', '--infer-sizes', '64x96', '--infer-steps', '1',
               '--infer-warmup', '1', '--threads', '1')
    sections = _sections(out)
    assert list(sections) == ['train step 64x64, batch 1', 'whole-image inference 64x96, batch 1']
    for title, lines in sections.items():
        rows = [ROW.match(line) for line in lines]
        assert all(rows), lines
        names = [r[1] for r in rows]
        assert names == ['unet_r50', 'csunet_r50 swin=intermediate'], lines
        base, csunet = ([float(v) for v in r.groups()[1:]] for r in rows)
        params, time, time_ratio, mem, mem_ratio, gflop = csunet
        assert base[2] == base[4] == 1.0  # the baseline against itself
        assert time_ratio == pytest.approx(time / base[1], rel=0.02, abs=0.01)
        assert mem_ratio == pytest.approx(mem / base[3], rel=0.02, abs=0.01)
        # CS-UNet (56 M parameters in the intermediate variant) is bigger than Unet-r50 (32.5 M)
        assert params > base[0] > 0 and gflop > 0 and base[5] > 0


@pytest.mark.slow
def test_a_size_that_does_not_fit_is_reported_not_killed():
    out = _run('--no-train', '--baseline', 'none', '--depths', 'intermediate', '--infer-sizes',
               '4096x4096', '--infer-steps', '1', '--infer-warmup', '0', '--mem-limit-gb', '0.5')
    assert re.search(r'^csunet_r50 swin=intermediate\s+\| out of memory \(peak RSS [\d.]+ GB\)$',
                     out, re.M), out


def test_cuda_row_reports_throughput_and_mfu():
    """The CUDA columns (no GPU needed): img/s = batch / median, MFU = FLOP/s / peak."""
    base = dict(params=dict(total=32.5), times=[1.0, 1.0], peak_rss=2 * bench.GB,
                cuda_peak=1 * bench.GB, flops=1e12)
    res = dict(params=dict(total=56.3), times=[2.0, 4.0, 3.0], peak_rss=2 * bench.GB,
               cuda_peak=3 * bench.GB, flops=6e12)
    job = dict(model='csunet', depths='intermediate', device='cuda', batch=16)
    cells = [c.strip() for c in bench.format_row(job, res, base, 100.0).split('|')]
    # median 3 s: 3x the baseline's time; CUDA peak memory (not RSS) 3x the baseline's
    assert cells[3:6] == ['3.00x', '3.00 GB', '3.00x']
    assert cells[6] == '6000.0 GFLOP'
    # 16 images in 3 s; 6 TFLOP in 3 s = 2 TFLOP/s = 2 % of a 100 TFLOP/s card
    assert cells[7:] == ['5.33 img/s', '2.00 TFLOP/s', 'MFU   2.0 %']
    assert 'no --peak-tflops' in bench.format_row(job, res, base)
    # the CPU has no throughput columns, and its memory is the peak RSS
    row = bench.format_row(dict(job, device='cpu'), res, base, 100.0)
    cells = [c.strip() for c in row.split('|')]
    assert cells[4:] == ['2.00 GB', '1.00x', '6000.0 GFLOP']


def test_shapes_are_h_by_w():
    assert [bench.parse_shape(t) for t in ('2048x1536', '64X96')] == [(2048, 1536), (64, 96)]
    with pytest.raises(argparse.ArgumentTypeError, match='expected HxW'):
        bench.parse_shape('2048')


def test_rows_are_labelled_by_the_configured_model():
    job = dict(model='csunet', depths='intermediate', cnn='resnet50')
    assert bench.label(job) == 'csunet_r50 swin=intermediate'
    assert bench.label(dict(job, with_cp=True)) == 'csunet_r50 swin=intermediate with_cp'
    assert bench.label(dict(job, checkout='/x')) == 'csunet_r50 swin=intermediate (before)'
    # Another CNN of the grid by its short name (also as its converter's timm model), one outside
    # the grid by its timm name, none: a Swin-Unet.
    assert bench.label(dict(job, cnn='seresnext50_32x4d')) == 'csunet_serx50 swin=intermediate'
    assert bench.label(dict(job, cnn='legacy_seresnext50_32x4d')).startswith('csunet_serx50 ')
    assert bench.label(dict(job, cnn='resnet18')) == 'csunet_resnet18 swin=intermediate'
    assert bench.label(dict(job, cnn=None)) == 'swinunet swin=intermediate'
    assert bench.label(dict(model=bench.BASELINE)) == 'unet_r50'
