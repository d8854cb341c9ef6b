"""configs/pretrain/{simmim,simsiam,densecl,mocov2}_*_micrographs.py: each trains through
mmpretrain on a pool built from generated micrographs, logs its held-out values, and its
checkpoint reaches CS-UNet (SimMIM -> mmpretrain2csunet.py -> 100 % of the Swin branch; ResNet-50
-> TimmCNN('resnet50') with identical feature maps)."""
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from csunet.datasets.unlabelled import build_pool
from csunet.experiments import SSL_ENCODERS

REPO = Path(__file__).resolve().parents[2]
PRETRAIN = REPO / 'configs' / 'pretrain'
SSL_CONFIGS = ['simmim_swin-original_micrographs', 'simmim_swin-intermediate_micrographs',
               'simsiam_resnet50_micrographs', 'densecl_resnet50_micrographs',
               'mocov2_resnet50_micrographs']
#: The README's CPU-budget pretraining (1/4 scale of the EBC pool) -> the config it reduces.
BUDGET = {'simmim_swin-intermediate_pool-ebc1-128px': 'simmim_swin-intermediate_micrographs',
          'simsiam_resnet50_pool-ebc1-128px': 'simsiam_resnet50_micrographs'}


def test_every_pretrain_config_is_tested():
    names = {p.stem for p in PRETRAIN.glob('*.py')}
    assert names - {p.stem for p in PRETRAIN.glob('*_microlite.py')} == set(SSL_CONFIGS) | set(
        BUDGET)


@pytest.mark.parametrize('name', sorted(BUDGET))
def test_budget_pretraining_is_its_config_at_quarter_scale(name):
    ours = Config.fromfile(str(PRETRAIN / f'{name}.py'))
    full = Config.fromfile(str(PRETRAIN / f'{BUDGET[name]}.py'))
    assert ours.model == full.model and ours.optim_wrapper == full.optim_wrapper
    pipeline = ours.train_dataloader.dataset.pipeline
    assert pipeline[1] == dict(type='Resize', scale=(128, 128))  # 512-px tiles -> 1/4 scale
    sizes = ([pipeline[3].input_size] if ours.model.type == 'SimMIM'
             else [pipeline[2].transforms[0][0].scale])
    assert sizes == [128]
    assert ours.train_cfg.max_iters == 300 and ours.param_scheduler[-1].end == 300
    assert ours.train_dataloader.dataset.data_root == 'data/pool_ebc1'


@pytest.fixture(scope='module')
def pool(tmp_path_factory):
    """A pool of 5 generated 'micrographs' (blobs on a gradient), 1 held out."""
    src = tmp_path_factory.mktemp('src')
    rng = np.random.default_rng(0)
    for i in range(5):
        img = np.tile(np.linspace(60, 120, 160, dtype=np.uint8), (160, 1))
        for _ in range(12):
            cv2.circle(img, tuple(int(v) for v in rng.integers(0, 160, 2)),
                       int(rng.integers(4, 14)), int(rng.integers(150, 230)), -1)
        cv2.imwrite(str(src / f'm{i}.png'), img)
    out = tmp_path_factory.mktemp('pool') / 'pool'
    stats = build_pool([str(src)], str(out), tile=128, val_fraction=0.2)
    assert stats['val_tiles'] == 4 and stats['tiles'] == 20
    return out


def _small(name, pool, work_dir, crop=64, iters=2):
    """The leaf at a test size: ``crop``-px crops, batch 2, ``iters`` iterations, smaller
    heads, every hook kept."""
    cfg = Config.fromfile(str(PRETRAIN / f'{name}.py'))
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = str(pool)
    pipeline = cfg.train_dataloader.dataset.pipeline
    if cfg.model.type == 'SimMIM':
        pipeline[1].crop_size = crop
        pipeline[3].input_size = crop
    else:
        pipeline[1].transforms[0][0].scale = crop
        if 'queue_len' in cfg.model:
            cfg.model.queue_len = 8  # a multiple of the batch
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 1
    for hook in cfg.custom_hooks:
        if hook.type == 'SelfSupHeldOutHook':
            hook.update(interval=1, batch_size=2)
    return cfg


def _train(cfg):
    from mmengine.runner import Runner
    init_default_scope('mmpretrain')
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize('name', SSL_CONFIGS)
def test_ssl_config_trains_and_logs_held_out_values(name, pool, tmp_path):
    cfg = _small(name, pool, tmp_path)
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # no CUDA-only AmpOptimWrapper
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    runner = _train(cfg)
    assert (tmp_path / 'iter_2.pth').is_file()
    metrics = next(h.metrics for h in cfg.custom_hooks if h.type == 'SelfSupHeldOutHook')
    rows = [json.loads(line) for line in
            next(tmp_path.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    held = [r for r in rows if any(k.startswith('heldout/') for k in r)]
    assert [r['step'] for r in held] == [1, 2]
    for m in metrics:
        assert all(np.isfinite(r[f'heldout/{m}']) for r in held)
    if 'embedding_std' in metrics:
        d = 2048 if cfg.model.type == 'SimSiam' else 128
        assert held[0]['heldout/embedding_std_ref'] == pytest.approx(d ** -0.5)
        assert 0 < held[0]['heldout/embedding_std'] < 1
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert re.search(r'held-out \(4 tiles\) at iter 2: ', log)
    del runner
    # the picture of the run (tools/misc/pretrain_curves.py)
    from csunet.analysis.results import plot_pretraining
    plot_pretraining([str(tmp_path)], str(tmp_path / 'curves.png'))
    assert (tmp_path / 'curves.png').read_bytes()[:4] == b'\x89PNG'


def test_pretrain_curves_cli_names_a_missing_run(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / 'tools/misc/pretrain_curves.py'),
                          str(tmp_path / 'nope'), '-o', str(tmp_path / 'c.png')],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 2 and 'not a folder' in run.stderr and 'nope' in run.stderr
    assert not (tmp_path / 'c.png').exists()


def test_held_out_values_repeat_for_the_same_weights(pool, tmp_path):
    """Masks are re-seeded per evaluation: the same model gives the same held-out loss, and the
    training randomness is left where it was."""
    from csunet.engine.hooks import SelfSupHeldOutHook
    cfg = _small('simmim_swin-intermediate_micrographs', pool, tmp_path, iters=1)
    runner = _train(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, SelfSupHeldOutHook))
    state = np.random.get_state()[1].copy()
    first, second = hook.evaluate(runner.model), hook.evaluate(runner.model)
    assert first == second and set(first) == {'loss'}
    assert (np.random.get_state()[1] == state).all()
    with pytest.raises(KeyError, match='unknown'):
        SelfSupHeldOutHook(metrics=['accuracy'])


def test_held_out_hook_warns_without_held_out_tiles(pool, tmp_path, caplog):
    cfg = _small('simsiam_resnet50_micrographs', pool, tmp_path, iters=1)
    cfg.custom_hooks[-1].ann_file = 'meta/none.txt'
    _train(cfg)
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'meta/none.txt missing or empty' in log and 'held-out (' not in log


def test_simmim_checkpoint_converts_to_the_whole_swin_branch(pool, tmp_path):
    """SimMIM checkpoint -> mmpretrain2csunet.py -> every Swin tensor of CS-UNet's branch loads
    (min_loaded_ratio 1.0) with the pretrained values; the mask token and decoder are left."""
    cfg = _small('simmim_swin-intermediate_micrographs', pool, tmp_path, iters=1)
    _train(cfg)
    out = tmp_path / 'swin_intermediate_ssl.pth'
    run = subprocess.run([sys.executable, str(REPO / 'tools/model_converters/mmpretrain2csunet.py'),
                          str(tmp_path / 'iter_1.pth'), '-o', str(out)],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    src = torch.load(tmp_path / 'iter_1.pth', map_location='cpu', weights_only=False)
    src = src['state_dict']
    from csunet.models.backbones import SwinResMLP
    from csunet.models.utils import load_pretrained
    swin = SwinResMLP(arch='intermediate')
    report = load_pretrained(swin, str(out), 'swin', prefix='backbone.swin.',
                             min_loaded_ratio=1.0)
    assert not report.missing and len(report.loaded) == len(swin.state_dict())
    for k, v in swin.state_dict().items():
        torch.testing.assert_close(v, src[f'backbone.{k}'], rtol=0, atol=0, msg=k)
    assert 'backbone.mask_token' in src


@pytest.mark.parametrize('encoder', sorted(SSL_ENCODERS))
def test_mmpretrain_cnn_loads_into_timm_cnn_with_identical_maps(tmp_path, encoder):
    """An mmpretrain ResNet-50 / ResNeXt-101 checkpoint (the SSL configs' backbone, keys
    ``backbone.*``) gives TimmCNN(encoder) the same maps at strides 4-32 as mmpretrain's backbone
    (eval mode, non-trivial BatchNorm statistics)."""
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS

    from csunet.models.backbones import TimmCNN
    torch.manual_seed(0)
    init_default_scope('mmpretrain')  # mmpretrain's ResNet / ResNeXt, not mmseg's
    ref = PRETRAIN_MODELS.build(dict(SSL_ENCODERS[encoder], out_indices=(0, 1, 2, 3),
                                     zero_init_residual=False))
    ref.init_weights()
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    state = {f'backbone.{k}': v for k, v in ref.state_dict().items()}
    state['momentum_encoder.module.0.conv1.weight'] = state['backbone.conv1.weight'].clone()
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'ssl.pth')
    cfg = Config.fromfile(str(REPO / 'configs/_base_/pretraining/cnn_ssl.py'))
    init_cfg = dict(copy.deepcopy(cfg.cnn_init_cfg), checkpoint=str(tmp_path / 'ssl.pth'),
                    min_loaded_ratio=1.0)
    # channels_last=False: the same memory format as the reference, so the same float rounding
    cnn = TimmCNN(encoder, init_cfg=init_cfg, channels_last=False)
    cnn.init_weights()
    ref.eval()
    cnn.eval()
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        for a, b in zip(ref(x), cnn(x), strict=True):
            torch.testing.assert_close(b, a, rtol=0, atol=0)


@pytest.mark.slow
def test_simsiam_trains_on_two_cpu_processes_through_dist_train(pool, tmp_path, free_port):
    """tools/dist_train.sh CONFIG 2 (torchrun, gloo on CPU, SyncBN reverted to BN); the held-out
    values are logged once, by the main process, over all held-out tiles."""
    import os
    cfg = _small('simsiam_resnet50_micrographs', pool, tmp_path / 'work')
    path = tmp_path / 'simsiam_small.py'
    cfg.dump(str(path))
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', MASTER_ADDR='127.0.0.1', PORT=str(free_port),
               PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}')
    proc = subprocess.run(['bash', str(REPO / 'tools/dist_train.sh'), str(path), '2',
                           '--work-dir', str(tmp_path / 'work')],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    # SimSiam's necks are SyncBN, which DDP refuses on CPU: csunet.compat.cpu_dist reverts them
    assert re.search(r'no CUDA: \d+ SyncBatchNorm layers .* become BatchNorm', out)
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert len(re.findall(r'held-out \(4 tiles\) at iter 2: ', log)) == 1
