"""csunet.compat.mmcv_ops: mmseg 1.2.2 imports on mmcv-lite; compiled ops fail clearly."""
import subprocess
import sys
import textwrap

import pytest

from csunet.compat import MMCVOpsUnavailableError, mmcv_ops


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


needs_lite = pytest.mark.skipif(mmcv_ops.has_compiled_mmcv_ops(),
                                reason='full mmcv is installed: the stand-in stays inactive')


@needs_lite
def test_mmseg_does_not_import_on_mmcv_lite_without_the_shim():
    proc = run_python('import mmseg.models')
    assert proc.returncode != 0 and 'mmcv._ext' in proc.stderr


@needs_lite
def test_mmseg_imports_with_the_shim_and_pure_python_ops_work():
    proc = run_python('''
        import csunet, torch
        import mmseg.models, mmseg.utils.mask_classification
        from mmseg.models.losses import FocalLoss
        from mmcv.ops import point_sample
        import mmseg.models.utils.point_sample  # noqa: F401  (imports mmcv.ops eagerly)
        import sys
        # mmcv's own pure-PyTorch code, loaded from its file
        assert point_sample is sys.modules['mmcv.ops.point_sample'].point_sample
        out = point_sample(torch.rand(1, 2, 4, 4), torch.rand(1, 5, 2))
        assert out.shape == (1, 2, 5)
        print('ok')
    ''')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'ok'


@needs_lite
def test_compiled_op_raises_a_clear_error():
    assert mmcv_ops.is_installed()
    from mmcv.ops import CrissCrossAttention, sigmoid_focal_loss
    with pytest.raises(MMCVOpsUnavailableError, match='CrissCrossAttention.*mmcv-lite'):
        CrissCrossAttention(8)
    with pytest.raises(MMCVOpsUnavailableError, match='sigmoid_focal_loss'):
        sigmoid_focal_loss(None, None)
    from mmseg.models.decode_heads import CCHead
    with pytest.raises(MMCVOpsUnavailableError, match='CrissCrossAttention'):
        CCHead(in_channels=8, channels=4, num_classes=2)


def test_mmseg_focal_loss_works_on_the_cpu():
    """mmseg's FocalLoss calls the compiled ``sigmoid_focal_loss`` only for CUDA tensors; on the
    CPU its pure-PyTorch path runs (also on mmcv-lite) and equals torchvision's focal loss."""
    import torch
    import torch.nn.functional as F
    import torchvision
    from mmseg.models.losses import FocalLoss
    torch.manual_seed(0)
    pred = torch.randn(2, 3, 4, 4, requires_grad=True)
    # One-hot targets: mmseg 1.2.2's CPU branch mangles class-index maps (``target[:, K]``
    # instead of ``[:, :K]``) and raises a shape error, with or without the stand-in.
    target = F.one_hot(torch.randint(0, 3, (2, 4, 4)), 3).permute(0, 3, 1, 2).float()
    loss = FocalLoss(gamma=2.0, alpha=0.25)(pred, target)
    ref = torchvision.ops.sigmoid_focal_loss(pred, target, alpha=0.25, gamma=2.0,
                                             reduction='mean')
    assert torch.allclose(loss, ref, rtol=1e-5, atol=1e-7)
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_install_is_a_no_op_with_full_mmcv():
    # Simulate compiled mmcv: install() must leave sys.modules alone.
    proc = run_python('''
        import sys
        from csunet.compat import mmcv_ops
        mmcv_ops.has_compiled_mmcv_ops = lambda: True
        sys.modules.pop('mmcv.ops', None)
        assert mmcv_ops.install() is False
        assert not mmcv_ops.is_installed() and 'mmcv.ops' not in sys.modules
        print('ok')
    ''')
    # importing csunet itself already ran install(); the explicit call above must not re-install
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith('ok')
