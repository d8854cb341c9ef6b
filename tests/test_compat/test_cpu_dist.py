"""csunet.compat.cpu_dist: mmengine's distributed init and DDP wrapper work without CUDA (gloo).

The end-to-end check (two processes through tools/dist_train.sh) is
tests/test_e2e/test_dist_train_cpu.py.
"""
import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn

from csunet.compat import cpu_dist

needs_gloo = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason='torch.distributed with gloo is not available')


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    """One process of a world of one, as torchrun would start it, with CUDA hidden."""
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
               MASTER_ADDR='127.0.0.1', MASTER_PORT=str(_free_port()), PYTHONWARNINGS='ignore')
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, env=env)


def test_installed_by_import_csunet():
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    assert cpu_dist.is_installed()
    before = (dist_utils._init_dist_pytorch, MMDistributedDataParallel.__init__)
    cpu_dist.install()  # idempotent: no second layer of wrapping
    assert (dist_utils._init_dist_pytorch, MMDistributedDataParallel.__init__) == before


@needs_gloo
def test_mmengine_alone_fails_without_cuda():
    proc = run_python('''
        from mmengine.dist import init_dist
        init_dist('pytorch', backend='nccl')
    ''')
    assert proc.returncode != 0
    assert 'cuda' in proc.stderr.lower() or 'nvidia' in proc.stderr.lower(), proc.stderr[-3000:]


@needs_gloo
def test_init_dist_and_ddp_train_step_on_cpu():
    proc = run_python('''
        import csunet  # noqa: F401  (applies csunet.compat)
        import torch, torch.distributed as dist
        from mmengine.dist import get_comm_device, init_dist, all_reduce
        from mmengine.model.wrappers import MMDistributedDataParallel
        init_dist('pytorch', backend='nccl')  # what configs/_base_/default_runtime.py asks for
        assert dist.get_backend() == 'gloo', dist.get_backend()
        assert get_comm_device().type == 'cpu'
        t = torch.ones(3)
        all_reduce(t)
        assert t.tolist() == [1.0, 1.0, 1.0]
        model = torch.nn.Linear(4, 2)
        # Runner.wrap_model passes the GPU index; a CPU module must get device_ids=None
        ddp = MMDistributedDataParallel(module=model, device_ids=[0], broadcast_buffers=False)
        assert ddp.device_ids is None
        before = model.weight.detach().clone()
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
        ddp(torch.randn(5, 4)).sum().backward()
        opt.step()
        assert not torch.equal(before, model.weight)
        dist.destroy_process_group()
        print('ok')
    ''')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('ok')
    assert 'backend "gloo" instead of "nccl"' in proc.stdout + proc.stderr


class _Recorder:

    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))


@pytest.mark.parametrize('asked, used', [('nccl', 'gloo'), ('gloo', 'gloo'), ('mpi', 'mpi')])
def test_cpu_init_picks_gloo_and_skips_set_device(monkeypatch, asked, used):
    original, init_pg = _Recorder(), _Recorder()
    monkeypatch.setattr(cpu_dist, 'accelerator_available', lambda: False)
    monkeypatch.setattr(torch.distributed, 'init_process_group', init_pg)
    monkeypatch.setattr(torch.cuda, 'set_device',
                        lambda *a: pytest.fail('torch.cuda.set_device called without CUDA'))
    cpu_dist._cpu_init_dist_pytorch(original)(asked, timeout=5)
    assert original.calls == []
    assert init_pg.calls == [((), dict(backend=used, timeout=5))]


def test_everything_is_mmengines_own_with_cuda(monkeypatch):
    monkeypatch.setattr(cpu_dist, 'accelerator_available', lambda: True)
    original = _Recorder()
    cpu_dist._cpu_init_dist_pytorch(original)('nccl', init_backend='torch', timeout=5)
    assert original.calls == [(('nccl', ), dict(init_backend='torch', timeout=5))]

    ddp_init = _Recorder()
    module = nn.Linear(2, 2)
    cpu_dist._cpu_ddp_init(ddp_init)('self', module, device_ids=[1], broadcast_buffers=False)
    assert ddp_init.calls == [(('self', module), dict(device_ids=[1], broadcast_buffers=False))]


def test_cpu_ddp_drops_device_ids_only_for_cpu_modules(monkeypatch):
    monkeypatch.setattr(cpu_dist, 'accelerator_available', lambda: False)
    ddp_init = _Recorder()
    module = nn.Linear(2, 2)
    cpu_dist._cpu_ddp_init(ddp_init)('self', module, device_ids=[1], output_device=1)
    assert ddp_init.calls == [(('self', module), dict(device_ids=None))]
    # no device_ids given: nothing to change
    cpu_dist._cpu_ddp_init(ddp_init)('self', module, find_unused_parameters=True)
    assert ddp_init.calls[-1] == (('self', module), dict(find_unused_parameters=True))
    # a module on the meta device (not the CPU) is left to DDP's own checks
    meta = nn.Linear(2, 2, device='meta')
    cpu_dist._cpu_ddp_init(ddp_init)('self', meta, device_ids=[0])
    assert ddp_init.calls[-1] == (('self', meta), dict(device_ids=[0]))
