"""ResMLP: the feed-forward network of every CS-UNet Swin block."""
from typing import Optional, Type

import torch
from torch import nn


class ResMLP(nn.Module):
    """Three-layer MLP with a residual inside, replacing Swin's two-layer MLP.

    ``fc1 -> GELU -> dropout -> fc2 (+ input) -> GELU -> dropout -> fc3 -> dropout``.
    The residual adds the MLP's input to the output of ``fc2``, so ``fc2`` maps back to
    ``in_features``. Parameter names ``fc1``/``fc2`` match Swin's MLP, so Swin checkpoints without
    ResMLP load into them; ``fc3`` is the extra layer.

    Args:
        in_features: Channels C of the input and output.
        hidden_features: Hidden width of ``fc1``. Defaults to ``4 * in_features``.
        drop: Dropout probability used after each activation and at the output.
        act_layer: Activation class.

    Shape:
        - Input: ``(*, C)``.
        - Output: ``(*, C)``.
    """

    def __init__(self,
                 in_features: int,
                 hidden_features: Optional[int] = None,
                 drop: float = 0.,
                 act_layer: Type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        hidden_features = hidden_features or 4 * in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.fc3 = nn.Linear(in_features, in_features)
        self.act = act_layer()
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(self.act(self.fc1(x)))
        h = self.fc2(h) + x
        h = self.drop(self.act(h))
        return self.drop(self.fc3(h))
