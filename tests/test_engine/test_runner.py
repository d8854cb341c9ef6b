"""csunet.engine.runner: what tools/train.py and tools/test.py share with mmseg's tools."""
import argparse
import os

import pytest
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.engine.runner import add_runner_args, build_runner, load_config, parse_runner_args


@pytest.fixture
def cfg_file(tmp_path):
    path = tmp_path / 'my_exp.py'
    path.write_text("model = dict(type='M', depth=2)\nlr = 0.1\n")
    return path


def test_load_config_options_launcher_and_work_dir_priority(cfg_file, tmp_path):
    cfg = load_config(str(cfg_file), 'pytorch', {'model.depth': 3, 'lr': 0.5})
    assert cfg.launcher == 'pytorch' and cfg.model.depth == 3 and cfg.lr == 0.5
    assert cfg.work_dir == os.path.join('./work_dirs', 'my_exp')  # from the file name
    assert load_config(str(cfg_file), work_dir='cli').work_dir == 'cli'
    with_dir = tmp_path / 'with_dir.py'
    with_dir.write_text("work_dir = 'from_config'\n")
    assert load_config(str(with_dir)).work_dir == 'from_config'
    assert load_config(str(with_dir), work_dir='cli').work_dir == 'cli'  # CLI wins


def test_runner_args_and_local_rank(monkeypatch):
    parser = argparse.ArgumentParser()
    add_runner_args(parser)
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = parse_runner_args(parser, ['--local-rank', '3', '--launcher', 'pytorch',
                                      '--cfg-options', 'a.b=1'])
    assert args.launcher == 'pytorch' and args.cfg_options == {'a.b': 1}
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')  # torchrun's value wins
    parse_runner_args(parser, ['--local_rank', '0'])
    assert os.environ['LOCAL_RANK'] == '1'


class _Built:
    def __init__(self, how, cfg):
        self.how, self.cfg = how, cfg


@RUNNERS.register_module(force=True)
class RecordingRunner(Runner):
    """A runner_type target that records how it was built instead of building."""

    @classmethod
    def from_cfg(cls, cfg):
        return _Built('RecordingRunner', cfg)


def test_build_runner_honours_runner_type(cfg_file, monkeypatch):
    monkeypatch.setattr(Runner, 'from_cfg', classmethod(lambda cls, cfg: _Built('Runner', cfg)))
    cfg = load_config(str(cfg_file))
    assert build_runner(cfg).how == 'Runner'  # mmengine's default runner
    cfg.runner_type = 'RecordingRunner'
    built = build_runner(cfg)
    assert built.how == 'RecordingRunner' and built.cfg.model.depth == 2
    cfg.runner_type = 'NoSuchRunner'
    with pytest.raises(KeyError, match='NoSuchRunner'):
        build_runner(cfg)
