import torch
import torch.nn.functional as F

from csunet.models.layers import ResMLP


def test_three_linears_with_inner_residual():
    mlp = ResMLP(8, 32, drop=0.5).eval()
    assert [tuple(m.weight.shape) for m in (mlp.fc1, mlp.fc2, mlp.fc3)] == [(32, 8), (8, 32),
                                                                            (8, 8)]
    x = torch.randn(4, 5, 8)
    h = F.gelu(mlp.fc1(x))
    expected = mlp.fc3(F.gelu(mlp.fc2(h) + x))
    torch.testing.assert_close(mlp(x), expected)


def test_dropout_is_active_in_training_only():
    mlp = ResMLP(8, drop=0.9)
    x = torch.randn(64, 8)
    mlp.train()
    assert not torch.allclose(mlp(x), mlp(x))
    mlp.eval()
    torch.testing.assert_close(mlp(x), mlp(x))
