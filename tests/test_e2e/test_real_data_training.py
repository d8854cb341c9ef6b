"""End-to-end on NASA's REAL benchmark data: convert Super3 -> train a tiny CS-UNet -> test.

Runs ``tools/dataset_converters/nasa_benchmark.py``, ``tools/train.py`` and ``tools/test.py`` as
subprocesses, everything under ``tmp_path``. Skipped when the raw benchmark is not beside the
checkout (``<repo>/../shared/data/nasa_benchmark/benchmark_segmentation_data``).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
SRC = REPO.parent / 'shared/data/nasa_benchmark/benchmark_segmentation_data'
ITERS = 4

TINY_CFG = '''
_base_ = [{models!r}, {dataset!r}, {runtime!r}]
split_root = {data!r}
crop = (128, 128)
model = dict(
    backbone=dict(
        swin=dict(embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8),
                  drop_path_rate=0.0),
        cnn=dict(model_name='resnet18')),
    decode_head=dict(num_classes=3))  # the rest follows the encoder (CSUNet)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='RandomCrop', crop_size=crop, cat_max_ratio=1.0),
    *{augment!r},
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=split_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=split_root))
test_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=split_root, indices=2))
test_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU']),
                  dict(type='NASAIoUMetric', classes=None)]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters={iters}, val_interval=100000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval={iters}),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
'''


def _run(args, cwd, timeout):
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='2')
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{args[0]} failed ({proc.returncode}):\n{out[-6000:]}'
    return out


@pytest.mark.slow
def test_real_super3_train_and_test(tmp_path):
    if not SRC.is_dir():
        pytest.skip(f'NASA benchmark data not found at {SRC}')
    data = tmp_path / 'nasa_benchmark'
    _run([str(REPO / 'tools/dataset_converters/nasa_benchmark.py'), str(SRC), '-o', str(data),
          '--splits', 'super3'], cwd=tmp_path, timeout=120)
    split = data / 'super3'
    assert len((split / 'splits/train.txt').read_text().split()) == 1
    assert len((split / 'splits/test.txt').read_text().split()) >= 2

    cfg = tmp_path / 'tiny_super3.py'
    base = REPO / 'configs/_base_'
    augment = Config.fromfile(str(base / 'datasets/super_common.py')).train_augment
    cfg.write_text(TINY_CFG.format(
        models=str(base / 'models/csunet.py'), dataset=str(base / 'datasets/super3.py'),
        runtime=str(base / 'default_runtime.py'), augment=augment, data=str(split),
        iters=ITERS))
    work = tmp_path / 'work'
    out = _run([str(REPO / 'tools/train.py'), str(cfg), '--work-dir', str(work)],
               cwd=tmp_path, timeout=240)
    assert re.search(rf'Iter\(train\) \[\s*{ITERS}/{ITERS}\]', out), out[-3000:]
    ckpt = work / f'iter_{ITERS}.pth'
    assert ckpt.is_file()

    out = _run([str(REPO / 'tools/test.py'), str(cfg), str(ckpt), '--work-dir',
                str(tmp_path / 'test')], cwd=tmp_path, timeout=180)
    assert 'per class results' in out, out[-3000:]
    rows = {}
    for name in ('matrix', 'secondary', 'tertiary'):
        m = re.search(rf'\|\s*{name}\s*\|\s*([-\d.na]+)\s*\|', out)
        assert m, f'no per-class row for {name}:\n{out[-3000:]}'
        rows[name] = m.group(1)
    m = re.search(r'mIoU:\s*([-\d.]+|nan)', out)
    assert m, out[-3000:]
    nasa = re.search(r'nasa_iou:\s*([-\d.]+|nan)', out)
    assert nasa, out[-3000:]
    values = [float(v) for v in [m.group(1), nasa.group(1), *rows.values()]]
    finite = [v for v in values if v == v and abs(v) != float('inf')]
    assert finite, f'no finite number among {values}'
    assert 0 <= float(nasa.group(1)) <= 100
    assert re.search(r'2/2\]', out) or 'Iter(test) [2/2]' in out, out[-3000:]
