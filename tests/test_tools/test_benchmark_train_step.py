"""tools/benchmark_train_step.py: CS-UNet vs the same-run Unet-r50 baseline, each row in its own
process, on tiny sizes (the real figures are in the README)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools/benchmark_train_step.py'
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


def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('benchmark_train_step', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cuda_row_reports_throughput_and_mfu():
    """The CUDA columns (no GPU needed): img/s = batch / median, MFU = FLOP/s / peak."""
    tool = _load_tool()
    args = tool.parse_args(['--peak-tflops', '100'])
    base = dict(params=dict(total=32.5), times=[1.0, 1.0], peak_rss=2 * tool.GB,
                cuda_peak=1 * tool.GB, flops=1e12)
    res = dict(params=dict(total=56.3), times=[2.0, 4.0, 3.0], peak_rss=2 * tool.GB,
               cuda_peak=3 * tool.GB, flops=6e12)
    job = dict(model='csunet', depths='intermediate', device='cuda', batch=16)
    cells = [c.strip() for c in tool._row(job, res, base, args).split('|')]
    # median 3 s: 3x the baseline's time; CUDA peak memory (not RSS) 3x the baseline's
    assert cells[3:6] == ['3.00x', '3.00 GB', '3.00x']
    assert cells[6] == '6000.0 GFLOP'
    # 16 images in 3 s; 6 TFLOP in 3 s = 2 TFLOP/s = 2 % of a 100 TFLOP/s card
    assert cells[7:] == ['5.33 img/s', '2.00 TFLOP/s', 'MFU   2.0 %']
    assert 'no --peak-tflops' in tool._row(job, res, base, tool.parse_args([]))
    # the CPU has no throughput columns, and its memory is the peak RSS
    cells = [c.strip() for c in tool._row(dict(job, device='cpu'), res, base, args).split('|')]
    assert cells[4:] == ['2.00 GB', '1.00x', '6000.0 GFLOP']


def test_shapes_are_h_by_w():
    tool = _load_tool()
    assert tool.parse_args(['--infer-sizes', '2048x1536', '64X96']).infer_sizes == \
        [(2048, 1536), (64, 96)]
    with pytest.raises(SystemExit):
        tool.parse_args(['--infer-sizes', '2048'])


def test_with_cp_and_before_rows_are_labelled():
    tool = _load_tool()
    job = dict(model='csunet', depths='intermediate')
    assert tool._label(job) == 'csunet_r50 swin=intermediate'
    assert tool._label(dict(job, with_cp=True)) == 'csunet_r50 swin=intermediate with_cp'
    assert tool._label(dict(job, checkout='/tmp/x')) == 'csunet_r50 swin=intermediate (before)'
    args = tool.parse_args(['--with-cp', '--before', 'some/checkout'])
    assert args.with_cp and args.before == 'some/checkout'
