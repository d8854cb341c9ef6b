"""AlbuSeg: albumentations applied jointly to image and label map, seeded by np.random."""
import copy
import os.path as osp

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmseg.registry import TRANSFORMS

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.datasets.synthetic import make_sample
from csunet.datasets.transforms import AlbuSeg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GEOMETRIC = ['HorizontalFlip', 'VerticalFlip', 'RandomRotate90', 'Transpose']
PHOTOMETRIC = [
    dict(type='RandomBrightnessContrast', brightness_limit=0.3, contrast_limit=0.3, p=1.0),
    dict(type='RandomGamma', gamma_limit=(70, 130), p=1.0),
    dict(type='Blur', blur_limit=3, p=1.0),
    dict(type='Sharpen', alpha=(0.2, 0.5), lightness=(0.5, 1.0), p=1.0),
]


def _results(size=(96, 128), seed=0, material='super'):
    img, mask = make_sample(material, size, rng=seed)
    img3 = np.repeat(img[..., None], 3, axis=2)  # LoadImageFromFile gives HxWx3 BGR
    return dict(img=img3, gt_seg_map=mask, img_shape=img3.shape[:2], seg_fields=['gt_seg_map'])


def _hist(mask):
    return np.bincount(mask.ravel(), minlength=256)


def test_registered_and_distinct_from_mmseg_albu():
    assert TRANSFORMS.get('AlbuSeg') is AlbuSeg
    assert TRANSFORMS.get('Albu') is not AlbuSeg  # mmseg's own wrapper stays untouched


@pytest.mark.parametrize('name', GEOMETRIC)
def test_geometry_moves_labels_with_image(name):
    res = _results()
    img0, mask0 = res['img'].copy(), res['gt_seg_map'].copy()
    t = AlbuSeg([dict(type=name, p=1.0)])
    np.random.seed(1)
    out = t(copy.deepcopy(res))
    mask, img = out['gt_seg_map'], out['img']
    assert mask.dtype == mask0.dtype
    np.testing.assert_array_equal(_hist(mask), _hist(mask0))  # same label set and counts
    assert out['img_shape'] == img.shape[:2] == mask.shape
    # the image followed exactly the same geometric mapping as the mask
    cands = [np.fliplr, np.flipud, lambda a: a.transpose(1, 0, *range(2, a.ndim))] + [
        (lambda k: (lambda a: np.rot90(a, k)))(k) for k in range(4)]
    matches = [f for f in cands if np.array_equal(f(mask0), mask)]
    assert matches, f'{name}: the mask is not a flip/rotation/transpose of the input'
    assert any(np.array_equal(f(img0), img) for f in matches)


def test_rot90_non_square_updates_img_shape():
    res = _results(size=(64, 160))
    t = AlbuSeg([dict(type='RandomRotate90', p=1.0)])
    shapes = set()
    for s in range(8):
        np.random.seed(s)
        out = t(copy.deepcopy(res))
        assert out['img_shape'] == out['img'].shape[:2] == out['gt_seg_map'].shape
        shapes.add(out['img_shape'])
    assert shapes == {(64, 160), (160, 64)}


@pytest.mark.parametrize('cfg', PHOTOMETRIC, ids=lambda c: c['type'])
def test_photometric_leaves_mask_bit_identical(cfg):
    res = _results()
    mask0 = res['gt_seg_map'].copy()
    np.random.seed(0)
    out = AlbuSeg([cfg])(copy.deepcopy(res))
    assert out['gt_seg_map'].dtype == mask0.dtype
    np.testing.assert_array_equal(out['gt_seg_map'], mask0)
    assert out['img'].shape == res['img'].shape and out['img'].dtype == np.uint8
    assert not np.array_equal(out['img'], res['img'])  # it did change the image


def test_seeded_determinism_and_independent_decisions():
    res = _results()
    t = AlbuSeg([dict(type='HorizontalFlip', p=0.5), dict(type='VerticalFlip', p=0.5),
                 dict(type='RandomGamma', p=0.5)])

    def run(seed, n=12):
        np.random.seed(seed)
        return [t(copy.deepcopy(res)) for _ in range(n)]

    a, b, c = run(3), run(3), run(4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x['img'], y['img'])
        np.testing.assert_array_equal(x['gt_seg_map'], y['gt_seg_map'])
    assert any(not np.array_equal(x['img'], y['img']) for x, y in zip(a, c))
    # the two flips are drawn independently (not one shared seed for both): all 4 combinations
    m0 = res['gt_seg_map']
    kinds = {'none': m0, 'h': np.fliplr(m0), 'v': np.flipud(m0), 'hv': np.flipud(np.fliplr(m0))}
    combos = set()
    for o in run(5, 40):
        combos.add(next(k for k, v in kinds.items() if np.array_equal(o['gt_seg_map'], v)))
    assert len(combos) == 4


def test_unknown_type_error_names_transform():
    with pytest.raises(KeyError, match=r"AlbuSeg: unknown albumentations transform 'NoSuchAug'"):
        AlbuSeg([dict(type='HorizontalFlip'), dict(type='NoSuchAug', p=1.0)])
    with pytest.raises(KeyError, match='NoSuchNested'):
        AlbuSeg([dict(type='OneOf', transforms=[dict(type='NoSuchNested')])])
    with pytest.raises(ValueError, match=r'AlbuSeg: cannot build albumentations\.RandomGamma'):
        AlbuSeg([dict(type='RandomGamma', gamma_limit='bad')])
    with pytest.raises(TypeError, match='AlbuSeg'):
        AlbuSeg([dict(p=1.0)])


def test_nested_oneof_and_grey_image():
    t = AlbuSeg([dict(type='OneOf', transforms=[dict(type='Blur', blur_limit=3, p=1.0),
                                                dict(type='Sharpen', p=1.0)], p=1.0)])
    img, mask = make_sample('ebc', (64, 64), rng=2)
    np.random.seed(0)
    out = t(dict(img=img.copy(), gt_seg_map=mask.copy()))
    assert out['img'].shape == (64, 64) and out['img_shape'] == (64, 64)
    np.testing.assert_array_equal(out['gt_seg_map'], mask)
    assert 'AlbuSeg' in repr(t)


@pytest.mark.parametrize('common,material', [('super_common.py', 'super'),
                                             ('ebc_common.py', 'ebc')])
def test_full_train_pipeline_runs(tmp_path, common, material):
    import cv2
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets', common))
    aug = [t for t in cfg.train_pipeline if t['type'] == 'AlbuSeg']
    assert len(aug) == 1, 'the train pipeline should use the albumentations recipe'
    names = {t['type'] for t in aug[0]['transforms']}
    assert {'HorizontalFlip', 'RandomBrightnessContrast', 'RandomGamma', 'OneOf'} <= names
    assert ({'VerticalFlip', 'RandomRotate90'} <= names) == (material == 'super')
    size = 600 if material == 'super' else 1024
    img, mask = make_sample(material, (size, size), rng=7)
    if material == 'ebc':
        mask = np.where(mask == 2, 1, mask).astype(np.uint8)  # EBCDataset's crack_as='oxide'
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    cv2.imwrite(str(tmp_path / 'a_ann.png'), mask)
    pipeline = Compose([TRANSFORMS.build(t) for t in cfg.train_pipeline])
    for seed in range(3):
        np.random.seed(seed)
        out = pipeline(dict(img_path=str(tmp_path / 'a.png'),
                            seg_map_path=str(tmp_path / 'a_ann.png'), reduce_zero_label=False,
                            seg_fields=[], num_classes=3 if material == 'super' else 2))
        inputs, sample = out['inputs'], out['data_samples']
        assert tuple(inputs.shape) == (3, 512, 512)
        gt = sample.gt_sem_seg.data.numpy()
        assert gt.shape == (1, 512, 512)
        assert set(np.unique(gt)) <= ({0, 1, 2} if material == 'super' else {0, 1})
        assert sample.img_shape == (512, 512)
