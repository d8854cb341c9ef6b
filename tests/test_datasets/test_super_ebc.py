"""Tests of SuperDataset, EBCDataset (crack mapping via mmseg label_map), CheckSegLabels and the
dataset config fragments; the real-data test converts Super3 and loads it."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS, TRANSFORMS

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.datasets import CheckSegLabels, EBCDataset, SuperDataset

REPO = Path(__file__).resolve().parents[1].parent
SRC = REPO.parent / 'shared/data/nasa_benchmark/benchmark_segmentation_data'
CFG_DIR = REPO / 'configs/_base_/datasets'
SPLITS = ['super1', 'super2', 'super3', 'super4', 'ebc1', 'ebc2', 'ebc3', 'ebc3_heldout']
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='CheckSegLabels')]


def _make_split(root: Path, masks: dict, part='train', size=(8, 8)) -> Path:
    """Write a converted-layout split (grey PNG images + given index masks) under ``root``."""
    for sub in ('img_dir', 'ann_dir', 'splits'):
        (root / sub / part).mkdir(parents=True, exist_ok=True)
    for stem, mask in masks.items():
        img = np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8)
        cv2.imwrite(str(root / 'img_dir' / part / f'{stem}.png'), img)
        cv2.imwrite(str(root / 'ann_dir' / part / f'{stem}.png'), np.asarray(mask, np.uint8))
    (root / 'splits' / f'{part}.txt').write_text(''.join(s + '\n' for s in masks))
    return root


def _build(cls, root, pipeline=LOAD, **kwargs):
    return cls(data_root=str(root), ann_file='splits/train.txt',
               data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
               pipeline=pipeline, **kwargs)


def test_registered_and_metainfo():
    assert DATASETS.get('SuperDataset') is SuperDataset
    assert DATASETS.get('EBCDataset') is EBCDataset
    assert TRANSFORMS.get('CheckSegLabels') is CheckSegLabels
    assert SuperDataset.METAINFO['classes'] == ('matrix', 'secondary', 'tertiary')
    assert SuperDataset.METAINFO['palette'] == [[128, 128, 128], [0, 0, 255], [255, 0, 0]]
    assert EBCDataset.METAINFO['classes'] == ('background', 'oxide')


def test_super_dataset_loads(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[:2] = 1
    mask[-1] = 2
    ds = _build(SuperDataset, _make_split(tmp_path, {'a #1': mask, 'b (2)': mask * 0}))
    assert len(ds) == 2 and ds.label_map is None and not ds.reduce_zero_label
    out = ds[0]
    assert out['img_path'].endswith('img_dir/train/a #1.png')
    np.testing.assert_array_equal(out['gt_seg_map'], mask)
    assert out['img'].shape == (8, 8, 3)
    assert out['num_classes'] == 3


@pytest.mark.parametrize('crack_as, crack_label', [('oxide', 1), ('background', 0),
                                                   ('ignore', 255)])
def test_ebc_crack_mapping(tmp_path, crack_as, crack_label):
    raw = np.array([[0, 1, 2, 2]] * 4, np.uint8)
    ds = _build(EBCDataset, _make_split(tmp_path, {'x': raw}, size=(4, 4)), crack_as=crack_as)
    assert ds.label_map == {0: 0, 1: 1, 2: crack_label}
    assert ds.metainfo['label_map'] == ds.label_map
    assert ds.metainfo['palette'] == [[0, 0, 0], [255, 128, 0]]
    seg = ds[0]['gt_seg_map']
    np.testing.assert_array_equal(seg[0], [0, 1, crack_label, crack_label])


def test_ebc_class_subset_composes_with_crack_map(tmp_path):
    raw = np.array([[0, 1, 2]] * 2, np.uint8)
    ds = _build(EBCDataset, _make_split(tmp_path, {'x': raw}, size=(2, 3)),
                metainfo=dict(classes=('oxide', )))
    assert ds.label_map == {0: 255, 1: 0, 2: 0}
    assert ds.metainfo['palette'] == [[255, 128, 0]]
    np.testing.assert_array_equal(ds[0]['gt_seg_map'], [[255, 0, 0]] * 2)


def test_ebc_bad_crack_as():
    with pytest.raises(ValueError, match='crack_as must be one of'):
        EBCDataset(crack_as='crack', lazy_init=True)


def test_check_seg_labels_names_file_and_values(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[0, 0] = 7
    mask[0, 1] = 3
    root = _make_split(tmp_path / 's', {'bad': mask})
    with pytest.raises(ValueError) as err:
        _build(SuperDataset, root)[0]
    msg = str(err.value)
    assert 'ann_dir/train/bad.png' in msg and '[3, 7]' in msg
    # EBC: raw values outside 0/1/2 are not in the label_map and are caught as well
    ebc = np.zeros((8, 8), np.uint8)
    ebc[3, 3] = 4
    with pytest.raises(ValueError, match=r'Unknown label values \[4\]'):
        _build(EBCDataset, _make_split(tmp_path / 'e', {'e': ebc}))[0]
    # 255 (ignore) is always allowed
    ok = np.full((8, 8), 255, np.uint8)
    assert _build(SuperDataset, _make_split(tmp_path / 'o', {'o': ok}))[0]['gt_seg_map'].max() \
        == 255


def test_check_seg_labels_arguments():
    seg = np.array([[0, 1], [2, 255]], np.uint8)
    assert CheckSegLabels(num_classes=3)(dict(gt_seg_map=seg)) is not None
    with pytest.raises(ValueError, match=r'\[2\]'):
        CheckSegLabels(num_classes=2)(dict(gt_seg_map=seg, seg_map_path='m.png'))
    assert CheckSegLabels(allowed_values=[0, 1, 2, 255])(dict(gt_seg_map=seg)) is not None
    with pytest.raises(ValueError, match='needs num_classes'):
        CheckSegLabels()(dict(gt_seg_map=seg))
    with pytest.raises(ValueError, match='m.png; place it after LoadAnnotations'):
        CheckSegLabels(num_classes=3)(dict(seg_map_path='m.png'))  # before LoadAnnotations
    # pure inference (mmseg's inference APIs: no annotation at all) passes through unchanged
    assert CheckSegLabels(num_classes=3)(dict(img_path='x.png')) == dict(img_path='x.png')
    # results['num_classes'] (from the data info) is used when no argument is given
    assert CheckSegLabels()(dict(gt_seg_map=seg, num_classes=3)) is not None


@pytest.mark.parametrize('split', SPLITS)
def test_dataset_configs(split):
    cfg = Config.fromfile(str(CFG_DIR / f'{split}.py'))
    ebc = split.startswith('ebc')
    assert cfg.dataset_type == ('EBCDataset' if ebc else 'SuperDataset')
    assert cfg.val_evaluator == [dict(type='IoUMetric', iou_metrics=['mIoU']),
                                 dict(type='NASAIoUMetric', classes=[1] if ebc else None)]
    assert cfg.test_evaluator == cfg.val_evaluator
    assert cfg.train_dataloader.batch_size == 6
    assert cfg.val_dataloader.batch_size == cfg.test_dataloader.batch_size == 1
    # The paper's augmentation, through AlbuSeg (albumentations) after the random crop.
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'  # NASA's epoch-based schedule
    assert [t.type for t in cfg.train_augment] == ['AlbuSeg']
    albu = [t.type for t in cfg.train_augment[0].transforms]
    geometric = ['HorizontalFlip'] if ebc else ['HorizontalFlip', 'VerticalFlip', 'RandomRotate90']
    assert albu == geometric + ['RandomBrightnessContrast', 'RandomGamma', 'OneOf']
    blur_or_sharpen = cfg.train_augment[0].transforms[-1].transforms
    assert [t.type for t in blur_or_sharpen] == ['Blur', 'Sharpen']
    for name, part in (('train', 'train'), ('val', 'val'), ('test', 'test')):
        ds = cfg[f'{name}_dataloader'].dataset
        assert ds.data_root == f'data/nasa_benchmark/{split}'
        assert ds.ann_file == f'splits/{part}.txt'
        assert ds.data_prefix == dict(img_path=f'img_dir/{part}', seg_map_path=f'ann_dir/{part}')
        types = [t.type for t in ds.pipeline]
        assert types[:3] == ['LoadImageFromFile', 'LoadAnnotations', 'CheckSegLabels']
        assert types[-1] == 'PackSegInputs'
    train = cfg.train_dataloader.dataset.pipeline
    crop = [t for t in train if t.type == 'RandomCrop'][0]
    assert crop.crop_size == (512, 512) and crop.cat_max_ratio == 1.0
    assert [t.type for t in train[4:-1]] == [t.type for t in cfg.train_augment]
    assert 'RandomCrop' not in [t.type for t in cfg.test_dataloader.dataset.pipeline]
    if ebc:
        assert cfg.train_dataloader.dataset.crack_as == 'oxide'


def _converter():
    path = REPO / 'tools/dataset_converters/nasa_benchmark.py'
    spec = importlib.util.spec_from_file_location('nasa_benchmark_converter', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_real_super3_convert_and_load(tmp_path, capsys):
    if not SRC.is_dir():
        pytest.skip(f'NASA benchmark not found at {SRC}')
    out = tmp_path / 'nasa'
    assert _converter().main([str(SRC), '-o', str(out), '--splits', 'super3']) == 0
    printed = capsys.readouterr().out
    assert 'super3' in printed and 'Unpaired files (0)' in printed
    counts = {p: len((out / 'super3/splits' / f'{p}.txt').read_text().split('\n')) - 1
              for p in ('train', 'val', 'test', 'different_test')}
    assert counts == dict(train=1, val=4, test=4, different_test=5)  # README table
    assert sorted(p.name for p in out.iterdir()) == ['_files', 'super3']

    cfg = Config.fromfile(str(CFG_DIR / 'super3.py'))
    for name in ('train', 'val', 'test'):
        dcfg = cfg[f'{name}_dataloader'].dataset
        dcfg.data_root = str(out / 'super3')
        ds = DATASETS.build(dcfg)
        assert len(ds) == counts[name]
        for i in range(len(ds)):
            sample = ds[i]
            seg = sample['data_samples'].gt_sem_seg.data
            assert tuple(seg.shape[-2:]) == (512, 512)
            assert set(seg.unique().tolist()) <= {0, 1, 2}
            assert sample['inputs'].shape == (3, 512, 512)
    # out-of-distribution part (two of its images were uint16)
    dcfg = cfg.test_dataloader.dataset
    dcfg.update(data_root=str(out / 'super3'), ann_file='splits/different_test.txt',
                data_prefix=dict(img_path='img_dir/different_test',
                                 seg_map_path='ann_dir/different_test'))
    ds = DATASETS.build(dcfg)
    assert len(ds) == 5
    labels = set()
    for i in range(5):
        labels |= set(ds[i]['data_samples'].gt_sem_seg.data.unique().tolist())
    assert labels == {0, 1, 2}
