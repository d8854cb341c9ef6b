"""MicroLiteDataset (classes from the data), SwinResMLP in mmpretrain."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _pretrain_scope():
    init_default_scope('mmpretrain')
    yield


def _img(path, value=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8), value, np.uint8))


def _build(**kw):
    from mmpretrain.registry import DATASETS
    return DATASETS.build(dict(type='MicroLiteDataset', **kw))


def test_ann_file_and_classes_txt(tmp_path):
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta/classes.txt').write_text('zinc\nalpha\nmid phase\n')
    _img(tmp_path / 'train/zinc/a.png')
    _img(tmp_path / 'train/mid phase/b.png')
    (tmp_path / 'meta/train.txt').write_text('train/zinc/a.png 0\ntrain/mid phase/b.png 2\n')
    ds = _build(data_root=str(tmp_path), split='train')
    assert ds.CLASSES == ('zinc', 'alpha', 'mid phase')  # file order, not sorted
    assert [d['gt_label'] for d in ds] == [0, 2]
    assert ds[1]['img_path'].endswith('train/mid phase/b.png')
    (tmp_path / 'meta/val.txt').write_text('train/zinc/a.png 3\n')
    with pytest.raises(ValueError, match='outside 0..2'):
        _build(data_root=str(tmp_path), split='val')


def test_folder_layout_with_and_without_classes_txt(tmp_path):
    _img(tmp_path / 'val/steel/a.png')
    _img(tmp_path / 'val/wood/b.png')
    _img(tmp_path / 'val/wood/c.png')
    ds = _build(data_root=str(tmp_path), split='val')  # no classes.txt: sorted folders
    assert ds.CLASSES == ('steel', 'wood') and [d['gt_label'] for d in ds] == [0, 1, 1]
    (tmp_path / 'classes.txt').write_text('glass\nsteel\nwood\n')  # 'glass' absent from val
    ds = _build(data_root=str(tmp_path), split='val')
    assert ds.CLASSES == ('glass', 'steel', 'wood') and [d['gt_label'] for d in ds] == [1, 2, 2]
    _img(tmp_path / 'val/unknown/d.png')
    with pytest.raises(ValueError, match='unknown'):
        _build(data_root=str(tmp_path), split='val')


def test_ann_file_needs_classes(tmp_path):
    _img(tmp_path / 'x.png')
    (tmp_path / 'ann.txt').write_text('x.png 0\n')
    with pytest.raises(ValueError, match='classes.txt'):
        _build(data_root=str(tmp_path), ann_file='ann.txt')
    ds = _build(data_root=str(tmp_path), ann_file='ann.txt', classes=['only'])
    assert len(ds) == 1 and ds.CLASSES == ('only', )


def test_swin_resmlp_is_one_class_in_both_registries():
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    from csunet.models.backbones import SwinResMLP, register_in_mmpretrain
    assert PRETRAIN_MODELS.get('SwinResMLP') is SwinResMLP is SEG_MODELS.get('SwinResMLP')
    assert register_in_mmpretrain() is PRETRAIN_MODELS  # idempotent
    clf = PRETRAIN_MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='SwinResMLP', embed_dims=32, depths=(1, 1, 1, 1),
                      num_heads=(1, 2, 4, 8), out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=74, in_channels=256)))
    assert type(clf.backbone) is SwinResMLP
    feats = clf.extract_feat(torch.rand(2, 3, 64, 64))
    assert feats[0].shape == (2, 256)
    assert clf(torch.rand(2, 3, 64, 64), mode='tensor').shape == (2, 74)


def test_leaf_configs_build_model():
    from pathlib import Path

    from mmengine.config import Config
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    root = Path(__file__).resolve().parents[2] / 'configs/pretrain'
    leaves = sorted(root.glob('*_microlite.py'))  # the classifiers (SSL: test_ssl_pretrain_configs)
    assert len(leaves) == 4
    for leaf in leaves:
        cfg = Config.fromfile(str(leaf))
        assert cfg.default_scope == 'mmpretrain' and cfg.custom_imports.imports == ['csunet']
        assert cfg.train_cfg.max_epochs == 30 and cfg.train_dataloader.batch_size == 128
        assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
        assert cfg.custom_hooks[0].type == 'EarlyStoppingHook'
        assert cfg.default_hooks.checkpoint.save_best == 'accuracy/top1'
        depths = (2, 2, 2, 2) if 'intermediate' in leaf.name else (2, 2, 6, 2)
        init = cfg.model.backbone.pop('init_cfg', None)  # checkpoints are not in the repo
        assert (init is not None) == ('in1k' in leaf.name)
        model = PRETRAIN_MODELS.build(cfg.model)
        assert model.backbone.depths == depths and model.head.num_classes == 74
