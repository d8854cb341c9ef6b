"""mmengine checkpoints load under torch's weights_only default: save -> load -> resume."""
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from csunet.compat.torch_load import history_buffer_getattr

REPO_ROOT = Path(__file__).resolve().parents[2]


def synthetic_cfg(tmp_path, tiny_csunet_cfg, max_iters):
    from csunet.datasets.synthetic import generate_dataset
    root = generate_dataset(tmp_path / 'data', 'super', num_train=4, num_val=2, num_test=2,
                            size=(64, 64), seed=0)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/csunet/csunet_tiny_synthetic.py'))
    cfg.model = tiny_csunet_cfg()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.pipeline[3].crop_size = (64, 64)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2,
                                        save_best='mIoU', rule='greater')
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    return cfg


def test_checkpoint_round_trip_under_weights_only(tmp_path, tiny_csunet_cfg):
    assert torch.__version__ >= '2.6'  # weights_only=True is torch.load's default
    cfg = synthetic_cfg(tmp_path, tiny_csunet_cfg, max_iters=2)
    cfg.experiment_name = 'save'
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = tmp_path / 'work' / 'iter_2.pth'
    assert ckpt.is_file()
    saved = torch.load(ckpt, map_location='cpu')  # weights_only default
    assert saved['meta']['iter'] == 2 and 'message_hub' in saved
    weights = {k: v.clone() for k, v in runner.model.state_dict().items()}

    # resume: continues from iteration 2 with the same weights and optimizer state
    cfg2 = synthetic_cfg(tmp_path, tiny_csunet_cfg, max_iters=4)
    cfg2.experiment_name = 'resume'
    cfg2.resume = True
    cfg2.load_from = str(ckpt)
    runner2 = Runner.from_cfg(cfg2)
    runner2.load_or_resume()
    assert runner2.iter == 2
    for k, v in runner2.model.state_dict().items():
        assert torch.equal(v, weights[k]), k
    runner2.train()
    assert runner2.iter == 4

    # load_from for testing (what tools/test.py does)
    cfg3 = synthetic_cfg(tmp_path, tiny_csunet_cfg, max_iters=2)
    cfg3.experiment_name = 'test'
    cfg3.load_from = str(tmp_path / 'work' / 'iter_4.pth')
    metrics = Runner.from_cfg(cfg3).test()
    assert 'mIoU' in metrics


def test_without_the_allow_list_mmengine_checkpoints_do_not_load(tmp_path):
    # Documents why csunet.compat.torch_load exists (in a fresh interpreter without csunet).
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('allow_list_probe')
    hub.update_scalar('train/loss', 0.5)
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': hub.state_dict(), 'meta': {'seed': __import__('numpy').int64(3)}},
               path)
    code = f'import torch; torch.load({str(path)!r})'
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode != 0 and 'Weights only load failed' in proc.stderr
    proc = subprocess.run([sys.executable, '-c', 'import csunet; ' + code], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_getattr_stand_in_refuses_anything_but_history_buffer_statistics(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(RuntimeError, match='only HistoryBuffer'):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(RuntimeError, match='only HistoryBuffer'):
        history_buffer_getattr(torch, 'load')

    class Evil:
        def __reduce__(self):
            return getattr, (Path, 'write_text')

    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'x': Evil()}, f)
    with pytest.raises(Exception, match='only HistoryBuffer|Unsupported|not allowed'):
        torch.load(path)
