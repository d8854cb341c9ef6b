"""csunet.analysis.pipeline (tools/analyze.py) end to end: label masks (NASA encodings, index
PNGs), a tiny CS-UNet checkpoint on 8/16-bit images with a data bar and calibration, bad files,
atomic outputs; the command line's argument errors and help."""
import csv
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
import torch

from csunet.analysis.pipeline import AnalysisOptions, analyse

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'analyze.py'


def run(*inputs, out, **options):
    """``tools/analyze.py INPUTS -o OUT --option value ...`` in process, through the package."""
    return analyse(AnalysisOptions(inputs=[str(i) for i in inputs], out=str(out), **options))


def _rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def _no_temp_files(out):
    return not [p for p in Path(out).rglob('*') if p.name.endswith('.tmp')]


def _super_overlay(idx, grey):
    over = np.repeat(grey[..., None], 3, axis=2)
    over[idx == 1] = (0, 0, 255)
    over[idx == 2] = (255, 0, 0)
    return np.dstack([over, np.full(idx.shape, 255, np.uint8)])


def test_masks_mode_nasa_and_index_masks(tmp_path, capsys):
    from csunet.datasets.synthetic import make_sample
    src = tmp_path / 'masks'
    src.mkdir()
    truth = {}
    for k in range(2):
        img, idx = make_sample('super', (128, 160), k)
        cv2.imwrite(str(src / f'index{k}.png'), idx)
        truth[f'index{k}'] = idx
    img, idx = make_sample('super', (128, 160), 7)
    tifffile.imwrite(src / 'nasa_mask.tif', _super_overlay(idx, img), photometric='rgb',
                     extrasamples=[2])
    truth['nasa_mask'] = idx
    bad = idx.copy()
    bad[0, 0] = 9
    cv2.imwrite(str(src / 'zbad.png'), bad)
    out = tmp_path / 'out'
    rc = run(src, out=out, masks=True, material='super', pixel_size=20, unit='nm')
    err = capsys.readouterr().err
    assert rc == 1
    assert 'zbad.png: mask values [9] outside the classes 0..2' in err
    summary = _rows(out / 'summary.csv')
    assert {r['image'] for r in summary} == set(truth)
    for r in summary:
        cid = ['matrix', 'secondary', 'tertiary'].index(r['class'])
        assert float(r['area_fraction']) == pytest.approx((truth[r['image']] == cid).mean(),
                                                          abs=1e-6)
        assert r['unit'] == 'nm' and float(r['pixel_size']) == 20
        assert r['calibration_source'].startswith('command line')
    particles = _rows(out / 'particles.csv')
    from skimage.measure import label
    for name, idx in truth.items():
        for cid, cname in ((1, 'secondary'), (2, 'tertiary')):
            n = label(idx == cid, connectivity=1).max()
            rows = [p for p in particles if p['image'] == name and p['class'] == cname]
            assert len(rows) == n
            # areas in nm^2 add up to the class's pixel count
            assert sum(float(p['area']) for p in rows) == pytest.approx(
                (idx == cid).sum() * 400, rel=1e-5)
    for name, idx in truth.items():
        assert np.array_equal(cv2.imread(str(out / 'masks' / f'{name}.png'), 0), idx)
        assert (out / 'overlays' / f'{name}.png').is_file()
    stats = _rows(out / 'field_statistics.csv')
    sec = next(s for s in stats if s['class'] == 'secondary')
    fractions = [(idx == 1).mean() for idx in truth.values()]
    assert float(sec['area_fraction_mean']) == pytest.approx(np.mean(fractions), abs=1e-6)
    from scipy import stats as st
    ci = st.t.ppf(0.975, 2) * np.std(fractions, ddof=1) / np.sqrt(3)
    assert float(sec['ci95']) == pytest.approx(ci, rel=1e-4)
    html = (out / 'report.html').read_text()
    assert 'zbad.png' in html and 'report_files/nasa_mask_overlay.jpg' in html
    assert _no_temp_files(out)


def test_masks_mode_ebc_thickness_and_cracks(tmp_path):
    mask = np.zeros((200, 300), np.uint8)
    mask[80:110] = 1               # 30 px thick oxide layer
    mask[95, 50:151] = 2           # a 100 px crack inside it
    cv2.imwrite(str(tmp_path / 'ebc.png'), mask)
    out = tmp_path / 'out'
    assert run(tmp_path / 'ebc.png', out=out, masks=True, material='ebc') == 0
    rows = {r['class']: r for r in _rows(out / 'summary.csv')}
    assert float(rows['oxide']['thickness_mean']) == pytest.approx(30, abs=1)
    assert rows['crack']['crack_count'] == '1'
    assert float(rows['crack']['crack_length']) == pytest.approx(100, abs=1)
    assert rows['oxide']['unit'] == 'px' and rows['oxide']['calibration_source'] == \
        'none (pixels)'


def test_argument_and_name_errors(tmp_path, capsys):
    for argv, message in (([str(tmp_path), '-o', str(tmp_path / 'o'), '--masks'],
                           '--masks needs --material'),
                          ([str(tmp_path), '-o', str(tmp_path / 'o')], 'needs --config'),
                          ([str(tmp_path), '-o', 'o', '--masks', '--material', 'ebc', '--scale',
                            '0'], '--scale must be > 0')):
        proc = subprocess.run([sys.executable, str(TOOL), *argv], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    with pytest.raises(ValueError, match='need material'):
        run(tmp_path, out=tmp_path / 'o', masks=True)
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    cv2.imwrite(str(tmp_path / 'a' / 'x.png'), np.zeros((8, 8), np.uint8))
    cv2.imwrite(str(tmp_path / 'b' / 'x.png'), np.zeros((8, 8), np.uint8))
    rc = run(tmp_path / 'a' / 'x.png', tmp_path / 'b' / 'x.png', out=tmp_path / 'o', masks=True,
             material='ebc')
    assert rc == 2 and "both write outputs named 'x'" in capsys.readouterr().err
    assert not (tmp_path / 'o').exists()


@pytest.fixture
def tiny_checkpoint(tmp_path, tiny_csunet_cfg):
    """A config file and checkpoint of a tiny random CS-UNet (3 Super classes)."""
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/csunet/csunet_tiny_synthetic.py'))
    cfg.model = tiny_csunet_cfg(num_classes=3)
    cfg_path = tmp_path / 'tiny_cfg.py'
    cfg.dump(str(cfg_path))
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': ('matrix', 'secondary', 'tertiary')}}},
               str(ckpt))
    return str(cfg_path), str(ckpt)


def _inputs(tmp_path):
    from csunet.datasets.synthetic import make_sample
    src = tmp_path / 'in'
    src.mkdir()
    img, _ = make_sample('super', (150, 200), 0)
    img[-20:] = 0
    img[-14:-6, 10:90] = 255  # a data bar with "text"
    cv2.imwrite(str(src / 'bar.png'), img)
    img16, _ = make_sample('super', (90, 140), 1)
    tifffile.imwrite(src / 'cal16.tif', img16.astype(np.uint16) * 257,
                     resolution=(2e5, 2e5), resolutionunit='CENTIMETER')  # 50 nm / pixel
    small, _ = make_sample('super', (40, 48), 2)
    cv2.imwrite(str(src / 'small.jpg'), small)
    tifffile.imwrite(src / 'stack.tif', np.zeros((2, 32, 32), np.uint8),
                     photometric='minisblack')
    (src / 'broken.tif').write_bytes(b'II*\x00garbage')
    return src


def _check_model_run(out, rc, err):
    assert rc == 1
    assert 'stack.tif: multi-page TIFF (2 pages)' in err
    assert 'broken.tif: TIFF holds no image page' in err
    summary = _rows(out / 'summary.csv')
    assert {r['image'] for r in summary} == {'bar', 'cal16', 'small'}
    by = {(r['image'], r['class']): r for r in summary}
    assert by['bar', 'matrix']['data_bar_rows'] == '20'
    assert by['cal16', 'matrix']['unit'] == 'um'
    assert float(by['cal16', 'matrix']['pixel_size']) == pytest.approx(0.05)
    assert 'resolution tags' in by['cal16', 'matrix']['calibration_source']
    assert by['small', 'matrix']['unit'] == 'px'
    for name, shape in (('bar', (150, 200)), ('cal16', (90, 140)), ('small', (40, 48))):
        mask = cv2.imread(str(out / 'masks' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        assert mask.shape == shape and mask.dtype == np.uint8
        if name == 'bar':
            assert (mask[-20:] == 255).all() and mask[:-20].max() <= 2
        else:
            assert mask.max() <= 2
        assert cv2.imread(str(out / 'overlays' / f'{name}.png')).shape[:2] == shape
    fractions = [float(r['area_fraction']) for r in summary if r['image'] == 'bar']
    assert sum(fractions) == pytest.approx(1.0)
    assert by['bar', 'matrix']['field_area'] == str(130 * 200)
    assert not (out / 'masks' / 'stack.png').exists()
    assert (out / 'report.html').is_file() and _no_temp_files(out)


def test_model_mode_data_bar_fast(tmp_path, tiny_checkpoint, capsys):
    """One image with a data bar through the tiny model (the full run is the slow test)."""
    cfg, ckpt = tiny_checkpoint
    img = np.random.default_rng(0).integers(60, 200, (100, 120), dtype=np.uint8)
    img[-12:] = 0
    img[-9:-3, 5:60] = 255
    cv2.imwrite(str(tmp_path / 'b.png'), img)
    rc = run(tmp_path / 'b.png', out=tmp_path / 'out', config=cfg, checkpoint=ckpt, window=[64],
             overlap=16)
    assert rc == 0, capsys.readouterr().err
    mask = cv2.imread(str(tmp_path / 'out' / 'masks' / 'b.png'), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (100, 120) and (mask[-12:] == 255).all() and mask[:-12].max() <= 2
    rows = _rows(tmp_path / 'out' / 'summary.csv')
    assert [r['class'] for r in rows] == ['matrix', 'secondary', 'tertiary']
    assert {r['data_bar_rows'] for r in rows} == {'12'}
    assert sum(float(r['area_fraction']) for r in rows) == pytest.approx(1.0)


@pytest.mark.slow
def test_model_mode_in_process(tmp_path, tiny_checkpoint, capsys):
    cfg, ckpt = tiny_checkpoint
    src = _inputs(tmp_path)
    out = tmp_path / 'out'
    rc = run(src, out=out, config=cfg, checkpoint=ckpt, window=[64], overlap=16, device='cpu')
    cap = capsys.readouterr()
    assert 'bar: 150x200 px, 12 windows' in cap.out  # 130 x 200 px field: 3 x 4 windows
    _check_model_run(out, rc, cap.err)
    # --keep-data-bar: the bar is segmented like the rest
    rc = run(src / 'bar.png', out=tmp_path / 'keep', config=cfg, checkpoint=ckpt, window=[64],
             keep_data_bar=True)
    assert rc == 0
    mask = cv2.imread(str(tmp_path / 'keep' / 'masks' / 'bar.png'), cv2.IMREAD_UNCHANGED)
    assert mask.max() <= 2
    # a checkpoint of another model is refused, naming it
    torch.save({'state_dict': {'x': torch.zeros(1)}}, str(tmp_path / 'wrong.pth'))
    rc = run(src / 'bar.png', out=tmp_path / 'w', config=cfg,
             checkpoint=str(tmp_path / 'wrong.pth'))
    assert rc == 2 and 'wrong.pth does not fit' in capsys.readouterr().err
    # a model whose classes are not the material's
    rc = run(src / 'bar.png', out=tmp_path / 'w', config=cfg, checkpoint=ckpt, material='ebc')
    assert rc == 2


@pytest.mark.slow
def test_cli_subprocess(tmp_path, tiny_checkpoint):
    cfg, ckpt = tiny_checkpoint
    src = _inputs(tmp_path)
    out = tmp_path / 'out'
    proc = subprocess.run([sys.executable, str(TOOL), str(src), '-o', str(out), '--config', cfg,
                           '--checkpoint', ckpt, '--window', '96', '--overlap', '24'],
                          capture_output=True, text=True, cwd=str(REPO_ROOT), timeout=300)
    _check_model_run(out, proc.returncode, proc.stderr)


def test_help_states_defaults():
    proc = subprocess.run([sys.executable, str(TOOL), '--help'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0
    for text in ('defaults and why', '--window', '--overlap', 'cross-faded', '--device',
                 '--keep-data-bar', '--pixel-size'):
        assert text in proc.stdout
