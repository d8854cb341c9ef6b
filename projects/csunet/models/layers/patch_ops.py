"""Patch merging (2x down) and patch expanding (2x / 4x up) on channels-last maps."""
import torch
from torch import nn


class PatchMerging(nn.Module):
    """Merge each 2x2 patch into one token: ``(B, H, W, C) -> (B, H/2, W/2, 2C)``.

    Concatenation order ``[x(0,0), x(1,0), x(0,1), x(1,1)]`` and the names ``norm``/``reduction``
    are Microsoft Swin's, so its checkpoints load unchanged. H and W must be even.
    """

    def __init__(self, dim: int, norm_layer: type = nn.LayerNorm) -> None:
        super().__init__()
        self.norm = norm_layer(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] % 2 or x.shape[2] % 2:
            raise ValueError(f'PatchMerging needs an even H and W, got {tuple(x.shape[1:3])}')
        x = torch.cat(
            [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x))


class PatchExpand(nn.Module):
    """Swin-Unet's patch expanding: a linear layer widens each token, which is then rearranged
    into a ``scale x scale`` patch: ``(B, H, W, C_in) -> (B, sH, sW, C_out)``.

    Args:
        in_dim: Input channels C_in.
        out_dim: Output channels C_out (Swin-Unet: ``C_in / 2`` for 2x, ``C_in`` for the final 4x).
        scale: Upsampling factor s.
        norm_layer: Normalisation applied to the output tokens.
    """

    def __init__(self, in_dim: int, out_dim: int, scale: int = 2,
                 norm_layer: type = nn.LayerNorm) -> None:
        super().__init__()
        self.scale = scale
        self.out_dim = out_dim
        self.expand = nn.Linear(in_dim, scale * scale * out_dim, bias=False)
        self.norm = norm_layer(out_dim)

    def forward_patches(self, x: torch.Tensor) -> torch.Tensor:
        """The expanded map as a ``(B, H, s, W, s, C_out)`` view, without the copy that
        :meth:`forward` makes to lay it out as ``(B, sH, sW, C_out)``.

        The LayerNorm acts on each token, so it runs before the patch rearrangement, on the
        contiguous linear output; a consumer that copies anyway (a concatenation) can take this
        view directly.
        """
        b, h, w, _ = x.shape
        s = self.scale
        x = self.norm(self.expand(x).view(b, h, w, s, s, self.out_dim))
        return x.permute(0, 1, 3, 2, 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        s = self.scale
        return self.forward_patches(x).reshape(b, h * s, w * s, self.out_dim)
