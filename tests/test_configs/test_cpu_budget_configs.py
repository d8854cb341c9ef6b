"""configs/cpu_budget/: each leaf is its full-resolution counterpart on EBC1 at 1/4 scale
(``_base_/datasets/ebc1_256x256.py``): same model and schedule, 256x256 images, 128x128 training
crops, and test metrics on the original 1024x1024 masks."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
BUDGET = REPO_ROOT / 'configs/cpu_budget'
#: cpu_budget leaf -> the full-resolution leaf it reduces.
COUNTERPARTS = {
    'csunet_r50-swinint_ebc1-256x256.py': 'csunet/csunet_r50-swinint_ebc1.py',
    'csunet_r50_ebc1-256x256.py': 'csunet/csunet_r50_ebc1.py',
    'swinunet_swint_ebc1-256x256.py': 'baselines/swinunet_swint_ebc1.py',
    'unet_s5-d16_ebc1-256x256.py': 'baselines/unet_s5-d16_ebc1.py',
    'transdeeplab-2l_swint_ebc1-256x256.py': 'baselines/transdeeplab-2l_swint_ebc1.py',
    'hiformer-b_swint_ebc1-256x256.py': 'baselines/hiformer-b_swint_ebc1.py',
    # the self-supervised starts (configs/pretrain/*_pool-ebc1-128px.py make the checkpoints)
    'csunet_r50-swinint_rand-ssl_ebc1-256x256.py': 'csunet/csunet_r50-swinint_rand-ssl_ebc1.py',
    'csunet_r50-swinint_ssl-rand_ebc1-256x256.py': 'csunet/csunet_r50-swinint_ssl-rand_ebc1.py',
    'csunet_r50-swinint_ssl-ssl_ebc1-256x256.py': 'csunet/csunet_r50-swinint_ssl-ssl_ebc1.py',
}
DATA_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _strip(cfg, *keys):
    d = cfg.to_dict()
    for key in keys:
        d.pop(key, None)
    return d


def test_every_budget_leaf_is_listed():
    assert sorted(p.name for p in BUDGET.glob('*.py')) == sorted(COUNTERPARTS)


@pytest.mark.parametrize('name', sorted(COUNTERPARTS))
def test_budget_leaf_is_its_counterpart_at_quarter_scale(name):
    ours = Config.fromfile(str(BUDGET / name))
    full = Config.fromfile(str(REPO_ROOT / 'configs' / COUNTERPARTS[name]))
    # Same model (so the counterpart's build test covers it) but whole-image inference.
    model, full_model = ours.model.to_dict(), full.model.to_dict()
    assert model.pop('test_cfg') == dict(mode='whole')
    full_model.pop('test_cfg')
    assert model == full_model
    # Same schedule, hooks, optimizer, evaluators, runtime: only data pipelines and the
    # variables of the dataset fragment differ.
    fragment_vars = ('train_pipeline', 'test_pipeline', 'crop_size', 'scale', 'resize',
                     'model_test_cfg', 'model')
    assert _strip(ours, *DATA_KEYS, *fragment_vars) == _strip(full, *DATA_KEYS, *fragment_vars)
    for key in DATA_KEYS:
        ours_ds, full_ds = ours[key].dataset.to_dict(), full[key].dataset.to_dict()
        ours_ds.pop('pipeline'), full_ds.pop('pipeline')
        assert ours_ds == full_ds
        assert ours[key].batch_size == full[key].batch_size
    resize = dict(type='Resize', scale=(256, 256), keep_ratio=True)
    train = ours.train_dataloader.dataset.pipeline
    assert train[3] == resize and train[4].crop_size == (128, 128)
    assert [t.type for t in train[:3] + train[5:]] == [
        t.type for t in full.train_dataloader.dataset.pipeline[:3] +
        full.train_dataloader.dataset.pipeline[4:]]
    # Resize before LoadAnnotations: the test masks stay at their original size.
    assert [t.type for t in ours.test_dataloader.dataset.pipeline] == [
        'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'CheckSegLabels', 'PackSegInputs']


def _ebc_split(root: Path, size=1024) -> np.ndarray:
    """One converted-layout EBC image under ``root`` (train, val and test list it); a horizontal
    oxide band (label 1) and a crack (label 2) in it. Returns the mask."""
    mask = np.zeros((size, size), np.uint8)
    mask[size // 3:size // 2] = 1
    mask[size // 3:size // 2, 10:14] = 2
    img = np.random.default_rng(0).integers(0, 256, (size, size), dtype=np.uint8)
    for part in ('train', 'val', 'test'):
        for sub in ('img_dir', 'ann_dir'):
            (root / sub / part).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / 'img_dir' / part / 'e.png'), img)
        cv2.imwrite(str(root / 'ann_dir' / part / 'e.png'), mask)
        (root / 'splits').mkdir(exist_ok=True)
        (root / 'splits' / f'{part}.txt').write_text('e\n')
    return mask


def _dataset(cfg, key, root):
    dcfg = cfg[key].dataset
    dcfg.data_root = str(root)
    return DATASETS.build(dcfg)


def test_quarter_scale_pipelines_and_original_size_predictions(tmp_path, tiny_csunet_cfg):
    mask = _ebc_split(tmp_path)
    cfg = Config.fromfile(str(BUDGET / 'csunet_r50-swinint_ebc1-256x256.py'))
    train = _dataset(cfg, 'train_dataloader', tmp_path)[0]
    assert train['inputs'].shape == (3, 128, 128)
    assert train['data_samples'].gt_sem_seg.data.shape == (1, 128, 128)
    test = _dataset(cfg, 'test_dataloader', tmp_path)[0]
    sample = test['data_samples']
    assert test['inputs'].shape == (3, 256, 256)
    assert sample.ori_shape == (1024, 1024) and sample.img_shape == (256, 256)
    # crack -> oxide (EBCDataset), at the original resolution
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), np.minimum(mask, 1))
    # mmseg's postprocess brings the 256x256 prediction back to the mask's size, so the
    # metrics compare with the original masks.
    tiny = tiny_csunet_cfg(num_classes=2)
    tiny.test_cfg = cfg.model.test_cfg
    model = MODELS.build(tiny).eval()
    with torch.no_grad():
        out = model.test_step(pseudo_collate([test]))[0]
    assert out.pred_sem_seg.data.shape == (1, 1024, 1024)
    assert out.seg_logits.data.shape == (2, 1024, 1024)
