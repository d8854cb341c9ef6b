"""Tiled, blended inference of an mmseg segmentor on images of any size, in bounded memory.

An image larger than the window is cut into windows that overlap by at least ``overlap`` pixels
(:func:`window_starts`: evenly spread, the first at 0, the last ending at the border). Every
window's class probabilities (softmax of the logits) are weighted by a separable ramp
(:func:`blend_weights`) that falls linearly from 1 to ~0 over ``overlap`` pixels towards the
window's edges, and summed; the label is the argmax of the sum. Across an overlap the two ramps
cross-fade, so a pixel's label comes mostly from the window where it is far from the edge (where
the model sees the most context) and no seam shows where one window's crop would end. (mmseg's
own ``slide`` mode averages the windows with equal weights.) The argmax of the weighted sum needs
no normalisation: the weight sum is the same for every class.

Memory: windows are processed one row of windows at a time; only the rows of the image still
covered by a later window are kept as float32 sums, i.e. ``num_classes x (window + stride) x W``
floats, plus the uint8 image and label map. A 4096x4096 image with 3 classes and 512 windows
holds ~50 MB of sums.

Scale (``scale`` != 1, for a model trained on resized images, e.g. EBC-1 at 1/4 scale): the image
is resized by ``scale`` (bilinear, as mmcv's ``Resize``), segmented as above, and the blended
class probabilities are resized back to the image's size (bilinear, as mmseg resizes logits to
``ori_shape``) before the argmax, so the label map has the input's size. Then the probability map
is held whole: ``num_classes x H x W`` floats at the input's size.
"""
import math
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = ['window_starts', 'blend_weights', 'TiledSegmenter']


def window_starts(length: int, window: int, overlap: int) -> List[int]:
    """Start offsets of windows of size ``window`` covering ``[0, length)`` with neighbours
    overlapping by at least ``overlap`` pixels (one window ``[0]`` when ``length <= window``)."""
    if window <= 0 or not 0 <= overlap < window:
        raise ValueError(f'need window > 0 and 0 <= overlap < window, got {window}, {overlap}')
    if length <= window:
        return [0]
    n = math.ceil((length - overlap) / (window - overlap))
    n = max(n, 2)
    return [int(round(i * (length - window) / (n - 1))) for i in range(n)]


def blend_weights(height: int, width: int, overlap: int) -> np.ndarray:
    """``(height, width)`` float32 weights: the outer product of two ramps
    ``clip((distance to the nearest edge + 0.5) / overlap, 0, 1)``; every weight is > 0."""
    def ramp(n):
        d = np.minimum(np.arange(n), np.arange(n)[::-1]).astype(np.float32) + 0.5
        return np.clip(d / max(overlap, 1), 0.0, 1.0)
    return np.outer(ramp(height), ramp(width)).astype(np.float32)


class TiledSegmenter:
    """Segment ``(H, W, 3)`` uint8 BGR images of any size with an mmseg ``EncoderDecoder``.

    Args:
        model: an mmseg segmentor (``data_preprocessor`` + ``encode_decode``), in eval mode.
        window (int | tuple[int, int]): window ``(height, width)`` in pixels.
        overlap (int): minimum overlap of neighbouring windows in pixels (< window).
        batch_size (int): windows per forward pass.
        scale (float): resize factor applied to the image before segmentation (the model's
            training resolution relative to the input's); the labels come back at the input's
            size.
    """

    def __init__(self, model, window: Union[int, Sequence[int]] = 512, overlap: int = 128,
                 batch_size: int = 1, scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError(f'scale must be > 0, got {scale}')
        self.scale = float(scale)
        if isinstance(window, int):
            window = (window, window)
        self.window = (int(window[0]), int(window[1]))
        self.overlap = int(overlap)
        if not 0 <= self.overlap < min(self.window):
            raise ValueError(f'overlap ({overlap}) must be >= 0 and smaller than the window '
                             f'{self.window}')
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.model = model
        self.batch_size = int(batch_size)
        #: rows of float sums held at once during the last call (the memory bound, tested)
        self.max_buffer_rows = 0

    def scaled_size(self, height: int, width: int) -> Tuple[int, int]:
        """The ``(height, width)`` the model sees (mmcv's rounding of a rescale)."""
        if self.scale == 1:
            return height, width
        return (max(1, int(height * self.scale + 0.5)), max(1, int(width * self.scale + 0.5)))

    def grid(self, height: int, width: int) -> Tuple[List[int], List[int], int, int]:
        """``(row starts, column starts, window height, window width)`` for an image."""
        th, tw = min(self.window[0], height), min(self.window[1], width)
        return (window_starts(height, th, self.overlap if th < height else 0),
                window_starts(width, tw, self.overlap if tw < width else 0), th, tw)

    def num_windows(self, height: int, width: int) -> int:
        ys, xs, _, _ = self.grid(*self.scaled_size(height, width))
        return len(ys) * len(xs)

    @torch.no_grad()
    def probabilities(self, tiles: List[np.ndarray]) -> torch.Tensor:
        """Softmax class probabilities ``(B, C, h, w)`` (float32, CPU) of same-size uint8 BGR
        tiles ``(h, w, 3)``, preprocessed by the model's own ``data_preprocessor``."""
        from mmseg.structures import SegDataSample
        h, w = tiles[0].shape[:2]
        inputs = [torch.from_numpy(np.ascontiguousarray(t.transpose(2, 0, 1))) for t in tiles]
        samples = [SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
                   for _ in tiles]
        data = self.model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
        metas = [s.metainfo for s in data['data_samples']]
        for m in metas:
            m.setdefault('pad_shape', tuple(data['inputs'].shape[-2:]))
        logits = self.model.encode_decode(data['inputs'], metas)[..., :h, :w]
        if logits.shape[1] < 2:
            raise ValueError('TiledSegmenter needs a multi-class model (>= 2 output channels)')
        return logits.float().softmax(dim=1).cpu()

    def __call__(self, image: np.ndarray,
                 progress: Optional[Callable[[int], None]] = None) -> np.ndarray:
        """Label map ``(H, W)`` uint8 of a uint8 BGR image ``(H, W, 3)``.

        ``progress(n)`` is called after every batch with the number of windows it held.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'expected a uint8 (H, W, 3) image, got {image.dtype} '
                             f'{image.shape}')
        height, width = image.shape[:2]
        if self.scale == 1:
            labels = np.empty((height, width), np.uint8)

            def emit(top: int, sums: np.ndarray) -> None:
                labels[top:top + sums.shape[1]] = sums[:-1].argmax(axis=0)

            self._blend(image, progress, emit)
            return labels
        import cv2
        import torch.nn.functional as F
        h, w = self.scaled_size(height, width)
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        probs = None

        def keep(top: int, sums: np.ndarray) -> None:
            nonlocal probs
            if probs is None:
                probs = np.empty((sums.shape[0] - 1, h, w), np.float32)
            probs[:, top:top + sums.shape[1]] = sums[:-1] / sums[-1:]

        self._blend(small, progress, keep)
        full = F.interpolate(torch.from_numpy(probs)[None], size=(height, width),
                             mode='bilinear', align_corners=False)[0]
        return full.argmax(dim=0).to(torch.uint8).numpy()

    def _blend(self, image: np.ndarray, progress: Optional[Callable[[int], None]],
               emit: Callable[[int, np.ndarray], None]) -> None:
        """Blend the windows of ``image``; ``emit(top, sums)`` receives each block of final rows
        as ``(C + 1, rows, W)`` float32: the weighted class-probability sums, then the weight
        sum."""
        height, width = image.shape[:2]
        ys, xs, th, tw = self.grid(height, width)
        weights = torch.from_numpy(blend_weights(th, tw, self.overlap))
        acc: Optional[np.ndarray] = None  # weighted sums of rows [top, top + acc.shape[1])
        top = 0
        self.max_buffer_rows = 0
        for y0 in ys:
            if acc is not None and y0 > top:  # rows above y0 are final: no later window
                emit(top, acc[:, :y0 - top])
                acc = acc[:, y0 - top:]
                top = y0
            for b in range(0, len(xs), self.batch_size):
                batch_xs = xs[b:b + self.batch_size]
                probs = self.probabilities([image[y0:y0 + th, x0:x0 + tw] for x0 in batch_xs])
                probs = torch.cat([probs, torch.ones_like(probs[:, :1])], dim=1)
                probs = (probs * weights).numpy()
                if acc is None:
                    acc = np.zeros((probs.shape[1], th, width), np.float32)
                elif acc.shape[1] < y0 + th - top:
                    grow = y0 + th - top - acc.shape[1]
                    acc = np.concatenate(
                        [acc, np.zeros((acc.shape[0], grow, width), np.float32)], axis=1)
                for x0, p in zip(batch_xs, probs):
                    acc[:, y0 - top:y0 - top + th, x0:x0 + tw] += p
                self.max_buffer_rows = max(self.max_buffer_rows, acc.shape[1])
                if progress is not None:
                    progress(len(batch_xs))
        emit(top, acc)
