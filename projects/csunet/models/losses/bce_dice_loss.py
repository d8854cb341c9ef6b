"""0.7 BCE + 0.3 Dice, the loss of NASA's benchmark recipe that CS-UNet trains with."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class BCEDiceLoss(nn.Module):
    """Weighted sum of per-class binary cross-entropy and soft Dice on sigmoid outputs.

    Targets are one-hot (``(N, K, H, W)`` from labels ``(N, H, W)``); with a single output
    channel (a binary head with ``out_channels=1``) the target is ``label == 1``.

    * BCE: ``binary_cross_entropy_with_logits`` per element, averaged over valid pixels x classes.
      ``class_weight`` scales each class channel; ``class_balanced=True`` additionally weights the
      positives of class k by ``#negatives_k / #positives_k`` of the batch (1 when k is absent),
      so rare phases (tertiary gamma', cracks) count as much as the matrix. A per-pixel ``weight``
      (mmseg's pixel sampler) scales the BCE terms.
    * Dice: ``1 - (2 * sum(p * t) + smooth) / (sum(p) + sum(t) + smooth)`` with sums pooled over
      valid pixels and classes, ``p = sigmoid(logits)``, as in NASA's ``DiceBCELoss``.

    Pixels labelled ``ignore_index`` are excluded from both terms.

    Args:
        bce_weight: Weight of the BCE term.
        dice_weight: Weight of the Dice term.
        class_weight: Per-class BCE weights, or None.
        class_balanced: Batch-adaptive positive weights (see above).
        smooth: Dice smoothing constant.
        loss_weight: Factor on the whole loss.
        loss_name: Key in the loss dict; must start with ``loss_`` to be back-propagated.
    """

    def __init__(self,
                 bce_weight: float = 0.7,
                 dice_weight: float = 0.3,
                 class_weight: Optional[Sequence[float]] = None,
                 class_balanced: bool = False,
                 smooth: float = 1.,
                 loss_weight: float = 1.,
                 loss_name: str = 'loss_bce_dice') -> None:
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name={loss_name!r} must start with 'loss_' (mmseg sums only "
                             f'those into the training loss)')
        self.bce_weight = bce_weight
        self.dice_weight = dice_weight
        self.class_weight = class_weight
        self.class_balanced = class_balanced
        self.smooth = smooth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """
        Args:
            cls_score: Logits ``(N, K, H, W)``.
            label: Class indices ``(N, H, W)``; ``ignore_index`` marks pixels to skip.
            weight: Optional per-pixel weights ``(N, H, W)`` for the BCE term.
            ignore_index: Label value excluded from the loss.

        Returns:
            Scalar loss.
        """
        n, k = cls_score.shape[:2]
        valid = (label != ignore_index)
        safe = torch.where(valid, label, torch.zeros_like(label)).long()
        if k == 1:
            target = (safe == 1).unsqueeze(1).to(cls_score.dtype)
        else:
            if int(safe.max()) >= k:
                raise ValueError(f'label value {int(safe.max())} >= num_classes {k} (and not '
                                 f'ignore_index={ignore_index})')
            target = F.one_hot(safe, k).permute(0, 3, 1, 2).to(cls_score.dtype)
        mask = valid.unsqueeze(1).to(cls_score.dtype)  # N, 1, H, W

        pos_weight = None
        if self.class_balanced:
            pos = (target * mask).sum(dim=(0, 2, 3))
            neg = mask.sum() - pos
            pos_weight = torch.where(pos > 0, neg / pos.clamp(min=1), torch.ones_like(pos))
            pos_weight = pos_weight.view(k, 1, 1)
        bce = F.binary_cross_entropy_with_logits(
            cls_score, target, reduction='none', pos_weight=pos_weight)
        elem_weight = mask.expand_as(bce)
        if self.class_weight is not None:
            if len(self.class_weight) != k:
                raise ValueError(f'class_weight has {len(self.class_weight)} entries for {k} '
                                 f'classes')
            elem_weight = elem_weight * cls_score.new_tensor(self.class_weight).view(1, k, 1, 1)
        if weight is not None:
            elem_weight = elem_weight * weight.unsqueeze(1)
        num_valid = (mask.sum() * k).clamp(min=1)
        bce_loss = (bce * elem_weight).sum() / num_valid

        prob = cls_score.sigmoid() * mask
        target = target * mask
        intersection = (prob * target).sum()
        dice_loss = 1 - (2 * intersection + self.smooth) / (
            prob.sum() + target.sum() + self.smooth)
        return self.loss_weight * (self.bce_weight * bce_loss + self.dice_weight * dice_loss)
