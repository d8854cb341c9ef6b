"""MicroLite pretraining -> CS-UNet transfer, end to end on tiny synthetic data (CPU, ~2 min).

1. raw texture micrographs (one folder per class) -> tools/dataset_converters/microlite.py;
2. mmpretrain classification pretraining of a tiny SwinResMLP with tools/train.py on the leaf
   config configs/pretrain/swin-original_scratch_microlite.py (2 epochs, top-1/top-5 logged);
3. tools/model_converters/mmpretrain2csunet.py on the best checkpoint;
4. a CS-UNet segmentation runner (same Swin dims, resnet18) whose Swin branch is initialised from
   the converted file: at ``before_train`` its Swin weights equal the mmpretrain ``backbone.*``;
5. the same kind of pretraining with mmpretrain's own tools/train.py (``custom_imports``).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
CLASSES = ('blobs', 'hstripes', 'noise')


def _texture(kind: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    y, x = np.mgrid[:size, :size].astype(np.float32)
    if kind == 'noise':
        img = rng.normal(128, 45, (size, size))
    elif kind == 'hstripes':
        img = 128 + 80 * np.sin(y / 1.5 + rng.uniform(0, 6)) + rng.normal(0, 10, (size, size))
    else:
        img = np.full((size, size), 70.0) + rng.normal(0, 10, (size, size))
        for _ in range(6):
            cv2.circle(img, tuple(int(v) for v in rng.integers(0, size, 2)), 6, 200, -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _run(args, timeout=240):
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore')
    r = subprocess.run([PY, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert r.returncode == 0, f'{args[0]} failed ({r.returncode}):\n{r.stdout[-3000:]}\n' \
                              f'{r.stderr[-5000:]}'
    return r.stdout + r.stderr


@pytest.fixture(scope='module')
def microlite_data(tmp_path_factory):
    """Raw texture micrographs (3 classes x 6), converted by
    tools/dataset_converters/microlite.py."""
    tmp = tmp_path_factory.mktemp('microlite')
    rng = np.random.default_rng(0)
    for kind in CLASSES:
        (tmp / 'raw' / kind).mkdir(parents=True)
        for i in range(6):
            cv2.imwrite(str(tmp / 'raw' / kind / f'm{i}.png'), _texture(kind, rng))
    data = tmp / 'microlite'
    _run([REPO / 'tools/dataset_converters/microlite.py', tmp / 'raw', '-o', data,
          '--tile', 64, '--val', 0.34, '--test', 0])
    assert (data / 'meta/classes.txt').read_text().split() == sorted(CLASSES)
    return data


def _tiny_pretrain_opts(data: Path) -> list:
    """--cfg-options that shrink a configs/pretrain/ leaf to 2 epochs (1 warm-up, 1 cosine) of
    a tiny SwinResMLP on ``data``: seconds on a CPU."""
    opts = [f'{k}.dataset.data_root={data}' for k in
            ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    for k in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{k}.batch_size=8', f'{k}.num_workers=0', f'{k}.persistent_workers=False']
    return opts + [
        'model.backbone.embed_dims=32', 'model.backbone.depths=(1,1,1,1)',
        'model.backbone.num_heads=(1,2,4,8)', 'model.backbone.window_size=8',
        'model.backbone.drop_path_rate=0.0', 'model.head.in_channels=256',
        'model.head.num_classes=3', 'data_preprocessor.num_classes=3',
        'train_dataloader.dataset.pipeline.1.scale=(64,64)',
        'val_dataloader.dataset.pipeline.1.scale=(64,64)',
        'train_cfg.max_epochs=2', 'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end=2', 'param_scheduler.1.T_max=1',
        'default_hooks.logger.interval=1', 'randomness.seed=0'
    ]


@pytest.mark.slow
def test_pretrain_then_transfer(tmp_path, microlite_data, tiny_csunet_cfg):
    # 1. raw images -> MicroLite layout (fixture); 2. pretraining (mmpretrain, default_scope from
    # the config) with this project's tools/train.py
    work = tmp_path / 'pretrain'
    log = _run([REPO / 'tools/train.py',
                REPO / 'configs/pretrain/swin-original_scratch_microlite.py',
                '--work-dir', work, '--cfg-options', *_tiny_pretrain_opts(microlite_data)])
    acc = re.findall(r'Epoch\(val\) \[(\d+)\].*?accuracy/top1: ([\d.]+)\s+accuracy/top5: ([\d.]+)',
                     log)
    print('\n'.join(f'pretrain epoch {e}: top-1 {t1}  top-5 {t5}' for e, t1, t5 in acc))
    assert len(acc) == 2, log[-3000:]
    assert all(float(t5) == 100.0 for _, _, t5 in acc)  # 3 classes: top-5 clipped, not an error
    best = sorted(work.glob('best_accuracy_top1_epoch_*.pth'))
    assert len(best) == 1

    # 3. mmpretrain -> CS-UNet
    converted = tmp_path / 'csunet_init.pth'
    _run([REPO / 'tools/model_converters/mmpretrain2csunet.py', best[0], '-o', converted])

    # 4. CS-UNet training starts from the pretrained Swin weights
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from csunet.datasets.synthetic import generate_dataset
    seg_root = generate_dataset(tmp_path / 'seg', 'super', num_train=2, num_val=1, num_test=1,
                                size=(128, 128))
    cfg = Config.fromfile(str(REPO / 'configs/csunet/csunet_tiny_synthetic.py'))
    cfg.model = tiny_csunet_cfg(num_classes=3)
    cfg.model.backbone.swin.init_cfg = dict(type='Pretrained', checkpoint=str(converted),
                                            prefix='backbone.swin.')
    for k in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[k].dataset.data_root = str(seg_root)
        cfg[k].num_workers = 0
        cfg[k].persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=100)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    cfg.work_dir = str(tmp_path / 'seg_work')
    runner = Runner.from_cfg(cfg)

    pretrained = torch.load(best[0], map_location='cpu', weights_only=False)['state_dict']
    seen = {}

    class Snapshot(Hook):
        def before_train(self, runner):
            swin = runner.model.backbone.swin
            seen.update({k: v.detach().clone() for k, v in swin.state_dict().items()})

    runner.register_hook(Snapshot(), priority='VERY_HIGH')
    runner.train()
    backbone = {k[len('backbone.'):]: v for k, v in pretrained.items()
                if k.startswith('backbone.')}
    compared = [k for k in backbone if k in seen]
    buffers = {k for k in backbone if k not in seen}
    assert len(compared) >= 0.9 * len(backbone), (buffers, len(compared))
    assert all(k.endswith(('relative_position_index', 'attn_mask')) for k in buffers), buffers
    for k in compared:
        torch.testing.assert_close(seen[k], backbone[k], rtol=0, atol=0, msg=k)
    # and the CNN branch / decoder did not come from the classifier
    assert 'head.fc.weight' in pretrained
    print(f'CS-UNet swin branch: {len(compared)} tensors equal to the mmpretrain backbone')


@pytest.mark.slow
def test_mmpretrain_own_train_script_runs_our_config(tmp_path, microlite_data):
    """The pretraining configs load csunet through ``custom_imports``, so mmpretrain's own
    tools/train.py (shipped in the wheel under ``mmpretrain/.mim/tools``) trains them too."""
    import mmpretrain
    script = Path(mmpretrain.__file__).parent / '.mim/tools/train.py'
    assert script.is_file(), f'mmpretrain {mmpretrain.__version__} ships no tools/train.py'
    work = tmp_path / 'pretrain'
    log = _run([script, REPO / 'configs/pretrain/swin-intermediate_scratch_microlite.py',
                '--work-dir', work, '--cfg-options', *_tiny_pretrain_opts(microlite_data)])
    assert re.search(r'Epoch\(val\) \[2\].*accuracy/top1: [\d.]+\s+accuracy/top5: 100\.0', log), \
        log[-3000:]
    assert len(list(work.glob('best_accuracy_top1_epoch_*.pth'))) == 1
