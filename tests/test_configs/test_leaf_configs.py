"""Leaf configs (configs/csunet/, configs/baselines/), their fragments and the experiment
generator (csunet.experiments, tools/misc/experiments.py): every config parses; models build (once
per distinct model).

A leaf in configs/csunet/ is *generated* when it carries experiments.py's header
(``EXP.WRITTEN_BY``): then it must be exactly what the generator writes for its name. Any other
leaf there is hand-written (e.g. csunet_tiny_synthetic.py): it is parsed and its model built."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from csunet import experiments as EXP

REPO_ROOT = Path(__file__).resolve().parents[2]
LEAF_CONFIGS = sorted(
    [p for p in (REPO_ROOT / 'configs/csunet').glob('*.py')] +
    [p for p in (REPO_ROOT / 'configs/baselines').glob('*.py')])
ENCODER_FRAGMENTS = sorted((REPO_ROOT / 'configs/_base_/encoders').glob('*.py'))
CHECKPOINT_RE = {
    'cnn': re.compile(r'^checkpoints/cnn_(?P<encoder>\w+?)_(?P<pre>imagenet|micronet|'
                      r'imagenet_micronet|ssl)\.pth$'),
    'swin': re.compile(r'^checkpoints/swin_(?P<variant>original|intermediate)_(?P<pre>imagenet|'
                       r'microlite|imagenet_microlite|ssl)\.pth$'),
}


EXPERIMENTS = {e.name: e for e in EXP.all_experiments()}
BASELINE_EXPERIMENTS = {e.name: e for e in EXP.all_baselines()}
_BUILT = {}  # model-config JSON (without init_cfg) -> built


def generated_experiment(path):
    """The experiment a generated leaf was written for; None for a hand-written leaf.

    Fails, saying what is wrong, for a leaf with the generator's header but a name that no
    experiment has, and for a leaf named like an experiment but without the header.
    """
    text = Path(path).read_text()
    name = Path(path).stem
    if EXP.WRITTEN_BY not in text:
        assert name not in EXPERIMENTS, (
            f'{path}: named like the generated experiment {name!r} but lacks the header '
            f'{EXP.WRITTEN_BY!r}; regenerate it with tools/misc/experiments.py write, or give a '
            f'hand-written config another name')
        return None
    assert name in EXPERIMENTS, (
        f'{path}: has the header {EXP.WRITTEN_BY!r} but no experiment of '
        f'`tools/misc/experiments.py list` is named {name!r}; a hand-written config must not '
        f'carry the header')
    return EXPERIMENTS[name]


def _family(cfg):
    return 'ebc' if cfg.train_dataloader.dataset.type == 'EBCDataset' else 'super'


def _strip_init(d):
    if isinstance(d, dict):
        return {k: _strip_init(v) for k, v in d.items() if k != 'init_cfg'}
    if isinstance(d, (list, tuple)):
        return [_strip_init(v) for v in d]
    return d


def _build_once(model_cfg):
    from mmseg.registry import MODELS
    key = json.dumps(_strip_init(model_cfg.to_dict()), sort_keys=True, default=str)
    if key not in _BUILT:
        _BUILT[key] = type(MODELS.build(model_cfg)).__name__
    return _BUILT[key]


def check_leaf(cfg, build=True):
    """Dataset/class consistency, sampler, checkpoint paths; builds the model (cached)."""
    family = _family(cfg)
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'  # epoch-based NASA schedule
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.log_processor.by_epoch is True
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == ('EBCDataset' if family == 'ebc' else 'SuperDataset')
    head = cfg.model.decode_head
    assert head.num_classes == (2 if family == 'ebc' else 3)
    if family == 'ebc':
        assert cfg.model.test_cfg == dict(mode='slide', crop_size=(512, 512), stride=(256, 256))
    else:
        assert cfg.model.test_cfg == dict(mode='whole')
    backbone = cfg.model.backbone
    if backbone.type == 'CSUNetEncoder':
        cnn = backbone.get('cnn')
        if cnn is not None:
            enc = next((n for n, e in EXP.ENCODERS.items()
                        if cnn.model_name in (n, e.converted)), None)
            assert enc is not None, cnn.model_name
        # One Swin variant name; the decoder's mirror of it is derived by the CSUNet segmentor,
        # so a leaf repeats none of it.
        variant = backbone.swin.arch
        assert variant in EXP.SWIN_VARIANTS
        assert not {'in_channels', 'decoder_depths', 'num_heads', 'drop_path_rate',
                    'channels'} & set(head), 'the leaf sets decoder values the encoder derives'
        for branch, sub in (('swin', backbone.swin), ('cnn', cnn)):
            init = sub.get('init_cfg') if sub is not None else None
            if init is None:
                continue
            assert init.type == 'Pretrained'
            m = CHECKPOINT_RE[branch].match(init.checkpoint or '')
            assert m, f'{branch} checkpoint {init.checkpoint!r} not as documented'
            if branch == 'cnn':
                assert m['encoder'] == enc
                # Pretrained CNN files come from micronet2timm.py, in its timm model's layout;
                # self-supervised ones are mmpretrain checkpoints (backbone.*) of the same model.
                assert cnn.model_name == EXP.ENCODERS[enc].converted
                assert (m['pre'] == 'ssl') == (init.get('prefix') == 'backbone.')
            else:
                assert m['variant'] == variant
                # mmpretrain2csunet.py outputs (MicroLite, SimMIM) hold the branch under a prefix
                assert ('microlite' in m['pre'] or m['pre'] == 'ssl') == (
                    init.get('prefix') == 'backbone.swin.')
    if backbone.type == 'CSUNetEncoder':
        # The segmentor that derives the decoder from the encoder and checks what a leaf sets.
        assert cfg.model.type == 'CSUNet'
    if build:
        assert _build_once(cfg.model) == cfg.model.type


def test_leaf_configs_exist():
    names = {p.name for p in LEAF_CONFIGS}
    assert 'csunet_r50_super3.py' in names
    assert {'swinunet_swint_super3.py', 'unet_s5-d16_super3.py'} <= names
    for ds in EXP.DATASETS:
        assert f'csunet_r50_imagenet_{ds}.py' in names


def generated_baseline(path):
    """The baseline experiment a generated ``configs/baselines/`` leaf was written for; None for
    a hand-written one (mmseg's UNet, Swin-Unet)."""
    text, name = Path(path).read_text(), Path(path).stem
    if EXP.WRITTEN_BY_BASELINE not in text:
        assert name not in BASELINE_EXPERIMENTS, f'{path}: lacks {EXP.WRITTEN_BY_BASELINE!r}'
        return None
    assert name in BASELINE_EXPERIMENTS, f'{path}: no baseline experiment is named {name!r}'
    return BASELINE_EXPERIMENTS[name]


@pytest.mark.parametrize('path', LEAF_CONFIGS, ids=lambda p: p.name)
def test_leaf_config_builds(path):
    cfg = Config.fromfile(str(path))
    baseline = generated_baseline(path) if path.parent.name == 'baselines' else None
    if baseline is not None:
        assert path.read_text() == EXP.render_baseline(baseline, str(path.parent)), (
            f'{path.name} differs from the generator output: regenerate it with '
            f'tools/misc/experiments.py baseline ... --force')
        init = cfg.model.backbone[EXP.BASELINES[baseline.model]['init_key']]
        if baseline.swin_pretrain != 'none':
            m = CHECKPOINT_RE['swin'].match(init.checkpoint)
            assert m and m['variant'] == baseline.swin, init.checkpoint
    exp = generated_experiment(path) if path.parent.name == 'csunet' else None
    if path.parent.name == 'csunet' and exp is None:  # hand-written: parsed and built only
        assert _build_once(cfg.model) == cfg.model.type
        return
    check_leaf(cfg)
    if exp is not None:
        # Generated CS-UNet leaves are exactly what the generator writes.
        assert path.read_text() == EXP.render(exp, str(path.parent)), (
            f'{path.name} differs from the generator output: regenerate it with '
            f'tools/misc/experiments.py write ... --force')


def test_generated_or_hand_written(tmp_path):
    """A hand-written leaf beside the generated ones is told apart, not a StopIteration."""
    mine = tmp_path / 'my_experiment.py'
    mine.write_text("_base_ = ['../_base_/csunet_experiment.py']\n")
    assert generated_experiment(mine) is None
    exp = EXPERIMENTS['csunet_r50_super3']
    generated = tmp_path / 'csunet_r50_super3.py'
    generated.write_text(EXP.render(exp))
    assert generated_experiment(generated) == exp
    renamed = tmp_path / 'csunet_r50_super3_mine.py'
    renamed.write_text(EXP.render(exp))
    with pytest.raises(AssertionError, match='no experiment of .* is named'):
        generated_experiment(renamed)
    generated.write_text("_base_ = ['../_base_/csunet_experiment.py']\n")
    with pytest.raises(AssertionError, match='named like the generated experiment'):
        generated_experiment(generated)


def test_csunet_r50_super3_is_the_usage_config():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/csunet/csunet_r50_super3.py'))
    assert cfg.model.backbone.cnn.model_name == 'resnet50'
    assert cfg.model.backbone.cnn.init_cfg is None and cfg.model.backbone.swin.init_cfg is None
    assert cfg.model.backbone.swin.arch == 'original'
    assert cfg.train_dataloader.dataset.data_root.endswith('super3')
    assert any(h.type == 'TwoPhaseEarlyStopHook' for h in cfg.custom_hooks)


def test_fragments_cover_axes():
    base = REPO_ROOT / 'configs/_base_'
    assert {p.stem for p in ENCODER_FRAGMENTS} == set(EXP.ENCODERS)
    for name, enc in EXP.ENCODERS.items():
        frag = Config.fromfile(str(base / f'encoders/{name}.py'))
        assert frag.cnn_model_name == name
        # the timm model micronet2timm.py emits (csunet.models.utils.cnn_convert.TIMM_NAMES)
        assert frag.cnn_converted_model_name == enc.converted
        assert 'cnn_channels' not in frag  # widths come from timm, through the built encoder
    for variant in EXP.SWIN_VARIANTS:
        frag = Config.fromfile(str(base / f'swin/{variant}.py'))
        assert frag.swin_variant == variant
    for branch, pres in (('cnn', EXP.CNN_PRETRAININGS), ('swin', EXP.SWIN_PRETRAININGS)):
        for pre in pres:
            frag = Config.fromfile(str(base / f'pretraining/{branch}_{pre}.py'))
            init = frag[f'{branch}_init_cfg']
            if pre == 'none':
                assert init is None
            else:
                assert init.type == 'Pretrained' and init.checkpoint is None  # set by the leaf
    for ds in EXP.DATASETS:
        frag = Config.fromfile(str(base / f'datasets/{ds}.py'))
        # the inference mode is the data set's: EBC's 1024x1024 images slide in 512 windows
        slide = dict(mode='slide', crop_size=(512, 512), stride=(256, 256))
        assert frag.model_test_cfg == (slide if ds.startswith('ebc') else dict(mode='whole'))


def test_experiments_list_and_names():
    exps = EXP.all_experiments()
    # 20 encoders x 4 CNN starts (+ ssl for 2 of them) x 2 Swin variants x 5 Swin starts
    assert len(exps) == (20 * 4 + 2) * 2 * 5 * 8
    assert {e.encoder for e in exps if e.cnn_pretrain == 'ssl'} == set(EXP.SSL_ENCODERS)
    assert len({e.name for e in exps}) == len(exps)
    out = subprocess.run([sys.executable, str(REPO_ROOT / 'tools/misc/experiments.py'), 'list',
                          '--count'], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(exps))


def test_experiments_write_rejects_unknown(tmp_path):
    out = subprocess.run([sys.executable, str(REPO_ROOT / 'tools/misc/experiments.py'), 'write',
                          '--encoder', 'resnet5', '--dataset', 'super9', '-o', str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "unknown encoder 'resnet5'" in out.stderr and 'seresnext50_32x4d' in out.stderr
    assert "unknown dataset 'super9'" in out.stderr and 'ebc3_heldout' in out.stderr
    assert not list(tmp_path.iterdir())
    out = subprocess.run([sys.executable, str(REPO_ROOT / 'tools/misc/experiments.py'), 'write',
                          '--encoder', 'vgg16_bn', '--cnn-pretrain', 'ssl', '--dataset', 'ebc1',
                          '-o', str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "cnn-pretrain ssl needs encoder resnet50 or resnext101_32x8d" in out.stderr
    assert "'vgg16_bn'" in out.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize('axes', [
    ('mobilenetv2_100', 'imagenet', 'intermediate', 'imagenet_microlite', 'ebc3_heldout'),
    ('efficientnet_b1', 'micronet', 'original', 'none', 'super4'),
    ('vgg13_bn', 'none', 'intermediate', 'imagenet', 'ebc2'),
])
def test_experiments_write_parses_and_builds(tmp_path, axes):
    encoder, cnn_pre, swin, swin_pre, dataset = axes
    out_dir = tmp_path / 'deep' / 'dir'  # _base_ paths are relative to the output dir
    cmd = [sys.executable, str(REPO_ROOT / 'tools/misc/experiments.py'), 'write', '--encoder',
           encoder, '--cnn-pretrain', cnn_pre, '--swin', swin, '--swin-pretrain', swin_pre,
           '--dataset', dataset, '-o', str(out_dir)]
    subprocess.run(cmd, check=True, capture_output=True)
    files = list(out_dir.glob('*.py'))
    assert len(files) == 1 and not list(out_dir.glob('.*'))  # no temporary left
    cfg = Config.fromfile(str(files[0]))
    check_leaf(cfg)
    # Writing again is a no-op; a different existing file needs --force.
    subprocess.run(cmd, check=True, capture_output=True)
    files[0].write_text('# edited\n')
    assert subprocess.run(cmd, capture_output=True).returncode == 1
    assert subprocess.run(cmd + ['--force'], capture_output=True).returncode == 0


@pytest.mark.slow
def test_every_encoder_of_the_grid_gives_the_decoder_its_widths():
    """The CSUNet segmentor derives the decoder's inputs from the encoder: every CNN of the grid
    (and the timm model its converter emits) yields maps at strides 4/8/16/32 (on the meta device:
    no weights, no memory)."""
    import torch

    from csunet.models import TimmCNN
    for name, enc in EXP.ENCODERS.items():
        for model_name in dict.fromkeys([name, enc.converted]):
            with torch.device('meta'):
                cnn = TimmCNN(model_name)
            assert len(cnn.out_channels) == 4, model_name
            assert list(cnn.out_strides) == [4, 8, 16, 32], model_name


def test_baseline_experiments_list_and_write(tmp_path):
    tool = str(REPO_ROOT / 'tools/misc/experiments.py')
    out = subprocess.run([sys.executable, tool, 'list', '--baselines'], capture_output=True,
                         text=True, check=True).stdout.split()
    n = len(EXP.BASELINES) * len(EXP.SWIN_VARIANTS) * len(EXP.SWIN_PRETRAININGS) * len(
        EXP.DATASETS)
    assert out[-1] == str(n) and 'transdeeplab-2l_swint_super1' in out
    assert 'transdeeplab-2l_swint-int_inml_ebc3' in out
    bad = subprocess.run([sys.executable, tool, 'baseline', '--model', 'nope', '--dataset',
                          'ebc1'], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown model 'nope'" in bad.stderr
    written = subprocess.run([sys.executable, tool, 'baseline', '--model', 'transdeeplab-2l',
                              '--swin', 'intermediate', '--swin-pretrain', 'imagenet',
                              '--dataset', 'super2', '-o', str(tmp_path)],
                             capture_output=True, text=True, check=True).stdout.strip()
    cfg = Config.fromfile(written)
    assert cfg.model.backbone.depths == [2, 2, 2]
    assert cfg.model.backbone.init_cfg.checkpoint == 'checkpoints/swin_intermediate_imagenet.pth'
    assert cfg.model.decode_head.num_classes == 3
