"""A decode head whose logits come out on the encoder's padded grid."""
from typing import List, Sequence

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import SampleList
from torch import Tensor


class PaddedLogitsHead(BaseDecodeHead):
    """mmseg's :class:`BaseDecodeHead` for encoders that pad the image at the bottom/right (to a
    multiple of their largest stride): :meth:`loss_by_feat` and :meth:`predict_by_feat` crop the
    logits back to the label / image size (a crop, not a resize) before mmseg's own handling, so
    ``whole`` and ``slide`` inference work unchanged."""

    @staticmethod
    def crop_to(seg_logits: Tensor, size: Sequence[int]) -> Tensor:
        """Drop the encoder's bottom/right padding: crop ``(B, K, Hp, Wp)`` to ``size`` where it
        is smaller (a larger target is left to mmseg's resize)."""
        h, w = int(size[0]), int(size[1])
        return seg_logits[..., :min(h, seg_logits.shape[-2]), :min(w, seg_logits.shape[-1])]

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: SampleList) -> dict:
        size = batch_data_samples[0].gt_sem_seg.data.shape[-2:]
        return super().loss_by_feat(self.crop_to(seg_logits, size), batch_data_samples)

    def predict_by_feat(self, seg_logits: Tensor, batch_img_metas: List[dict]) -> Tensor:
        meta = batch_img_metas[0]
        # The same target size mmseg's BaseDecodeHead.predict_by_feat resizes to.
        if isinstance(meta['img_shape'], torch.Size) or 'pad_shape' not in meta:
            size = meta['img_shape']
        else:
            size = meta['pad_shape'][:2]
        return super().predict_by_feat(self.crop_to(seg_logits, size), batch_img_metas)
