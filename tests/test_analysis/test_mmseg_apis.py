"""mmseg's own inference APIs (``inference_model``, ``MMSegInferencer``) on our configs.

Both delete ``LoadAnnotations`` from the test pipeline; ``CheckSegLabels`` must then pass
through (it raised "no gt_seg_map" before). Models are built from the configs with random
weights (no checkpoint), on tiny images. ``configs/pretrain/`` holds mmpretrain classification
configs, which these segmentation APIs do not apply to.
"""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
SEG_CONFIGS = sorted(
    str(p.relative_to(REPO_ROOT))
    for d in ('configs/csunet', 'configs/csunet/short_run', 'configs/baselines',
              'configs/cpu_budget')
    for p in (REPO_ROOT / d).glob('*.py'))


def _run_both_apis(cfg: Config, shape=(40, 56)):
    # mmseg's UNet baseline needs sides divisible by 16 (its own assertion); CS-UNet takes any
    from mmseg.apis import MMSegInferencer, inference_model, init_model
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    model = init_model(cfg, None, device='cpu')
    result = inference_model(model, img)
    assert tuple(result.pred_sem_seg.data.shape) == (1, *shape)
    assert int(result.pred_sem_seg.data.max()) < cfg.model.decode_head.num_classes
    inferencer = MMSegInferencer(model=cfg, weights=None, device='cpu')
    out = inferencer(img, return_datasamples=True)
    assert tuple(out.pred_sem_seg.data.shape) == (1, *shape)


def test_config_list_is_complete():
    """SEG_CONFIGS is every runnable segmentation config: each config below configs/ outside the
    ``_base_`` fragments is parsed, and those whose model is an mmseg segmentor (and that have the
    test pipeline the APIs read) must be exactly SEG_CONFIGS; every other one must be an
    mmpretrain classifier or self-supervised model (configs/pretrain/), which mmseg's APIs do not
    apply to."""
    from mmpretrain.models import BaseClassifier, BaseSelfSupervisor
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    from mmseg.models.segmentors import BaseSegmentor
    from mmseg.registry import MODELS as SEG_MODELS
    segmentors, pretraining = set(), set()
    for path in (REPO_ROOT / 'configs').rglob('*.py'):
        if '_base_' in path.parts:
            continue
        name = str(path.relative_to(REPO_ROOT))
        cfg = Config.fromfile(str(path))
        seg_cls = SEG_MODELS.get(cfg.model.type)
        if seg_cls is not None and issubclass(seg_cls, BaseSegmentor):
            # inference_model reads test_pipeline, MMSegInferencer the test loader's pipeline
            assert cfg.test_pipeline and cfg.test_dataloader.dataset.pipeline, name
            segmentors.add(name)
        else:
            cls_cls = PRETRAIN_MODELS.get(cfg.model.type)
            assert cls_cls is not None and issubclass(
                cls_cls, (BaseClassifier, BaseSelfSupervisor)), \
                f'{name}: model {cfg.model.type} is neither a segmentor nor a pretraining model'
            pretraining.add(name)
    listed = set(SEG_CONFIGS)
    assert listed == segmentors, dict(not_listed=sorted(segmentors - listed),
                                      not_segmentors=sorted(listed - segmentors))
    # both kinds exist, so neither branch above is vacuous
    assert pretraining and all(c.startswith('configs/pretrain/') for c in pretraining)
    assert {c.split('/')[1] for c in segmentors} >= {'csunet', 'baselines', 'cpu_budget'}


@pytest.mark.parametrize('config', ['configs/csunet/csunet_tiny_synthetic.py',
                                    'configs/csunet/csunet_r50_imagenet_ebc1.py'])
def test_inference_apis_fast(config, tiny_csunet_cfg):
    """The configs' own pipelines and test_cfg (whole / slide), with a tiny CS-UNet."""
    cfg = Config.fromfile(str(REPO_ROOT / config))
    tiny = tiny_csunet_cfg(num_classes=cfg.model.decode_head.num_classes)
    tiny.test_cfg = cfg.model.test_cfg
    tiny.data_preprocessor = cfg.model.data_preprocessor
    cfg.model = tiny
    _run_both_apis(cfg)


@pytest.mark.slow
@pytest.mark.parametrize('config', SEG_CONFIGS)
def test_inference_apis_every_config(config):
    """Every segmentation config as shipped (its full model, random weights). The CPU-budget
    configs resize images to fit 256 x 256 (keeping the ratio): a square input keeps both sides
    at 256, which mmseg's UNet needs (multiples of 16)."""
    shape = (64, 64) if config.startswith('configs/cpu_budget/') else (64, 96)
    _run_both_apis(Config.fromfile(str(REPO_ROOT / config)), shape=shape)


def test_check_seg_labels_still_fails_when_misplaced():
    """In a data set pipeline (results carry seg_map_path) before LoadAnnotations: an error."""
    from csunet.datasets import CheckSegLabels
    with pytest.raises(ValueError, match='m.png; place it after LoadAnnotations'):
        CheckSegLabels(num_classes=3)(dict(img_path='i.png', seg_map_path='m.png'))
