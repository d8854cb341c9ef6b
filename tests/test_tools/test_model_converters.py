"""CLI tests of tools/model_converters/{swin2csunet,micronet2timm,mmpretrain2csunet}.py.

One real subprocess run per tool (started together in a module fixture, as each pays ~7 s of
imports); the other cases call the same ``main(argv)`` in-process."""
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import timm
import torch
import torchvision

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.models.backbones.swin_resmlp import SwinResMLP
from csunet.models.backbones.timm_cnn import TimmCNN
from csunet.models.utils import load_pretrained

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / 'tools' / 'model_converters'


def _tiny_timm_swin_state():
    torch.manual_seed(0)
    return timm.create_model('swin_tiny_patch4_window7_224', embed_dim=32, depths=(1, 1, 2, 1),
                             num_heads=(1, 2, 4, 8)).state_dict()


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('converters')
    torch.save({'model': _tiny_timm_swin_state()}, d / 'swin_timm.pth')
    torch.save({'module.' + k: v for k, v in torchvision.models.resnet18().state_dict().items()},
               d / 'resnet18_pretrained_microscopynet_v1.0.pth.tar')
    backbone = SwinResMLP(embed_dims=32, depths=(1, 1, 2, 1), num_heads=(1, 2, 4, 8))
    torch.save({'meta': {}, 'state_dict': {
        **{'backbone.' + k: v for k, v in backbone.state_dict().items()},
        'head.fc.weight': torch.zeros(4, 256), 'head.fc.bias': torch.zeros(4)}},
        d / 'mmpretrain_cls.pth')
    (d / 'keep.pth').write_bytes(b'previous output')
    commands = {
        'swin': ['swin2csunet.py', d / 'swin_timm.pth', '-o', d / 'out' / 'swin.pth'],
        'mmpretrain': ['mmpretrain2csunet.py', d / 'mmpretrain_cls.pth', '-o', d / 'csunet.pth'],
        'download': ['micronet2timm.py', 'resnet50', '--download', '--url',
                     'http://127.0.0.1:9/resnet50_pretrained_microscopynet_v1.1.pth.tar',
                     '-o', d / 'keep.pth'],
    }
    procs = {
        name: subprocess.Popen([sys.executable, str(TOOLS / cmd[0])] + [str(c) for c in cmd[1:]],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        for name, cmd in commands.items()
    }
    results = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=300)
        results[name] = (p.returncode, out, err)
    return d, results


def test_swin2csunet(runs):
    d, results = runs
    rc, out, err = results['swin']
    assert rc == 0, err
    assert 'layout timm' in out and 'missing 0, unexpected 0' in out
    ckpt = torch.load(d / 'out' / 'swin.pth')
    assert ckpt['meta']['converter'] == 'swin2csunet' and ckpt['meta']['layout'] == 'timm'
    assert ckpt['state_dict']['layers.0.blocks.0.attn.relative_position_bias_table'].shape == (
        225, 1)
    model = SwinResMLP(embed_dims=32, depths=(1, 1, 2, 1), num_heads=(1, 2, 4, 8))
    report = load_pretrained(model, str(d / 'out' / 'swin.pth'), 'swin', min_loaded_ratio=1.0)
    assert not report.missing and not report.unexpected
    assert [p.name for p in (d / 'out').iterdir()] == ['swin.pth']  # no temp file left


def test_micronet2timm(runs, capsys):
    d, _ = runs
    argv = [str(d / 'resnet18_pretrained_microscopynet_v1.0.pth.tar'), '-o',
            str(d / 'resnet18_timm.pth')]
    assert _main('micronet2timm.py')(argv) == 0
    out = capsys.readouterr().out
    assert "resnet18 -> timm 'resnet18'" in out
    assert 'loaded 120, missing 0, unexpected 0' in out
    ckpt = torch.load(d / 'resnet18_timm.pth')
    assert ckpt['meta']['timm_name'] == 'resnet18'
    assert ckpt['meta']['dropped_head'] == ['fc.bias', 'fc.weight']
    cnn = TimmCNN('resnet18', init_cfg=dict(type='Pretrained',
                                            checkpoint=str(d / 'resnet18_timm.pth'),
                                            min_loaded_ratio=1.0))
    cnn.init_weights()
    saved = torch.load(d / 'resnet18_pretrained_microscopynet_v1.0.pth.tar')
    assert torch.equal(cnn.model.layer3[1].conv2.weight, saved['module.layer3.1.conv2.weight'])
    assert len(cnn.model.pretrained_report.loaded) == 120


def test_mmpretrain2csunet(runs):
    d, results = runs
    rc, out, err = results['mmpretrain']
    assert rc == 0, err
    assert 'decode_head: 4 Swin blocks from the encoder' in out
    ckpt = torch.load(d / 'csunet.pth')
    sd = ckpt['state_dict']
    assert {k.split('.')[0] for k in sd} == {'backbone', 'decode_head'}
    assert ckpt['meta']['decoder_depths'] == (2, 1, 1)
    for d_, e in ((0, 2), (1, 1), (2, 0)):
        assert torch.equal(sd[f'decode_head.layers_up.{d_}.blocks.0.attn.qkv.weight'],
                           sd[f'backbone.swin.layers.{e}.blocks.0.attn.qkv.weight'])


@pytest.mark.parametrize('tool', ['swin2csunet.py', 'micronet2timm.py', 'mmpretrain2csunet.py'])
def test_missing_input_fails_clearly(tool, tmp_path, capsys):
    out = tmp_path / 'out.pth'
    argv = [str(tmp_path / 'nope.pth'), '-o', str(out)]
    if tool == 'micronet2timm.py':
        argv += ['--encoder', 'resnet50']
    assert _main(tool)(argv) == 1
    err = capsys.readouterr().err
    assert 'nope.pth' in err and 'no such file' in err
    assert not out.exists()


def test_download_without_network_fails_clearly(runs):
    d, results = runs
    rc, out, err = results['download']
    assert rc == 1
    assert 'cannot download http://127.0.0.1:9/' in err and 'pass its path as SRC' in err
    assert (d / 'keep.pth').read_bytes() == b'previous output'  # untouched


def _main(tool):
    return runpy.run_path(str(TOOLS / tool), run_name='converter')['main']


@pytest.mark.parametrize('tool', ['swin2csunet.py', 'micronet2timm.py', 'mmpretrain2csunet.py'])
def test_garbage_input(tool, tmp_path, capsys):
    bad = tmp_path / 'resnet50_pretrained_microscopynet_v1.0.pth.tar'
    bad.write_bytes(b'\x00garbage')
    out = tmp_path / 'out.pth'
    assert _main(tool)([str(bad), '-o', str(out)]) == 1
    err = capsys.readouterr().err
    assert 'error' in err and str(bad) in err
    assert not out.exists() and os.listdir(tmp_path) == [bad.name]


def test_wrong_family_fails_ratio_and_writes_nothing(tmp_path, capsys):
    """A resnet18 checkpoint declared as resnet50: too little loads, no output is left."""
    src = tmp_path / 'weights.pth'
    torch.save(torchvision.models.resnet18().state_dict(), src)
    out = tmp_path / 'out.pth'
    assert _main('micronet2timm.py')([str(src), '--encoder', 'resnet50', '-o', str(out)]) == 1
    err = capsys.readouterr().err
    assert 'loaded' in err and 'at least 100% must load' in err
    assert sorted(os.listdir(tmp_path)) == ['weights.pth']
    # Without --encoder, a non-NASA file name is refused with a hint.
    assert _main('micronet2timm.py')([str(src), '-o', str(out)]) == 1
    assert '--encoder' in capsys.readouterr().err


def test_not_swin_fails(tmp_path, capsys):
    src = tmp_path / 'cnn.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, src)
    assert _main('swin2csunet.py')([str(src), '-o', str(tmp_path / 'o.pth')]) == 1
    assert 'not a Swin checkpoint' in capsys.readouterr().err
