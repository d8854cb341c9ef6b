"""csunet.experiments as a library: leaves point at the repository's configs/_base_ from any
output folder and working directory, a configs folder without fragments is refused, and an
existing leaf is overwritten only when forced. The command line and the committed leaves:
tests/test_configs/test_leaf_configs.py."""
from pathlib import Path

import pytest
from mmengine.config import Config

from csunet import experiments as EXP

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_default_configs_dir_is_this_checkout():
    assert Path(EXP.CONFIGS_DIR) == REPO_ROOT / 'configs'


def test_leaf_inherits_the_repository_fragments_from_anywhere(tmp_path, monkeypatch):
    exp = EXP.validate(encoder='resnet50', cnn_pretrain='none', swin='original',
                       swin_pretrain='microlite', dataset='super2')
    in_repo = EXP.render(exp)
    monkeypatch.chdir(tmp_path)  # the default output folder does not depend on the cwd
    assert EXP.render(exp) == in_repo
    assert EXP.render(exp, str(REPO_ROOT / 'configs/csunet')) == in_repo
    assert "'../_base_/datasets/super2.py'" in in_repo
    path = EXP.write_leaf(exp, str(tmp_path / 'a' / 'b'))
    assert Path(path) == tmp_path / 'a' / 'b' / 'csunet_r50_rand-ml_super2.py'
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.swin.init_cfg.checkpoint == exp.swin_checkpoint
    assert cfg.train_dataloader.dataset.data_root.endswith('super2')


def test_configs_dir_without_fragments_is_refused(tmp_path):
    exp = EXP.all_baselines()[0]
    with pytest.raises(FileNotFoundError, match=r'_base_: no csunet_experiment\.py.*configs_dir'):
        EXP.write_leaf(exp, str(tmp_path), configs_dir=str(tmp_path))
    assert not list(tmp_path.iterdir())
    other = tmp_path / 'copy'
    (other / '_base_').mkdir(parents=True)
    (other / '_base_/csunet_experiment.py').write_text('')
    text = EXP.render_baseline(exp, configs_dir=str(other))
    assert "'../_base_/models/transdeeplab.py'" in text  # default output: configs_dir/baselines
    assert text == EXP.render_baseline(exp, str(other / 'baselines'), str(other))


def test_existing_leaf_is_replaced_only_when_forced(tmp_path):
    exp = EXP.all_experiments()[0]
    path = Path(EXP.write_leaf(exp, str(tmp_path)))
    written = path.read_text()
    assert EXP.write_leaf(exp, str(tmp_path)) == str(path)  # the same text: no error
    path.write_text('# edited\n')
    with pytest.raises(FileExistsError, match=f'{path.name} exists and differs'):
        EXP.write_leaf(exp, str(tmp_path))
    assert path.read_text() == '# edited\n'
    EXP.write_leaf(exp, str(tmp_path), force=True)
    assert path.read_text() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left


def test_unknown_axis_values_are_listed_with_the_valid_ones():
    with pytest.raises(ValueError) as err:
        EXP.validate(encoder='resnet5', cnn_pretrain='none', swin='big', swin_pretrain='none',
                     dataset='super1')
    assert "unknown encoder 'resnet5'" in str(err.value) and 'seresnext50_32x4d' in str(err.value)
    assert "unknown swin 'big'" in str(err.value) and 'intermediate' in str(err.value)
    with pytest.raises(ValueError, match="unknown model 'unet'"):
        EXP.validate_baseline(model='unet', swin='original', swin_pretrain='none',
                              dataset='ebc1')
