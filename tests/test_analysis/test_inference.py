"""csunet.analysis.inference: window grid, blend weights, tiled == whole for a per-pixel model,
seams, bounded memory, and a real (tiny) CS-UNet through the model's own preprocessor."""
import numpy as np
import pytest
import torch
from torch import nn

from csunet.analysis.inference import TiledSegmenter, blend_weights, window_starts


@pytest.mark.parametrize('length, window, overlap', [(100, 32, 8), (512, 512, 128),
                                                     (513, 512, 128), (4096, 512, 128),
                                                     (70, 64, 0)])
def test_window_starts_cover_with_overlap(length, window, overlap):
    starts = window_starts(length, window, overlap)
    assert starts[0] == 0 and starts[-1] + window == max(length, window)
    covered = np.zeros(length, int)
    for s in starts:
        covered[s:s + window] += 1
    assert (covered >= 1).all()
    gaps = np.diff(starts)
    assert (window - gaps >= overlap).all()  # neighbours overlap by at least `overlap`
    assert window_starts(20, 32, 8) == [0]
    with pytest.raises(ValueError):
        window_starts(100, 32, 32)


def test_blend_weights_cross_fade():
    w = blend_weights(64, 64, 16)
    assert w.min() > 0 and w.max() == 1.0
    assert w[32, 32] == 1.0 and w[0, 32] < 0.05  # edges weigh little, the centre fully
    ramp = blend_weights(64, 64, 16)[32]  # a row through the centre: the x ramp alone
    # two windows overlapping by 16: their ramps sum to a constant across the overlap
    assert np.allclose(ramp[-16:] + ramp[:16], 1.0)


class _PixelModel(nn.Module):
    """A per-pixel classifier (1x1 conv) with the mmseg segmentor interface used by
    TiledSegmenter: its labels do not depend on the window, so tiled must equal whole."""

    def __init__(self, num_classes=3):
        super().__init__()
        from mmseg.models import SegDataPreProcessor
        self.data_preprocessor = SegDataPreProcessor(mean=[100.] * 3, std=[50.] * 3,
                                                     bgr_to_rgb=True)
        self.conv = nn.Conv2d(3, num_classes, 1)
        torch.nn.init.normal_(self.conv.weight, std=3.0)
        self.calls = []

    def encode_decode(self, inputs, metas):
        self.calls.append(tuple(inputs.shape))
        assert all(tuple(m['img_shape']) == tuple(inputs.shape[-2:]) for m in metas)
        return self.conv(inputs)


def test_tiled_equals_whole_for_a_per_pixel_model_and_memory_is_bounded():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (300, 410, 3), dtype=np.uint8)
    model = _PixelModel().eval()
    whole = TiledSegmenter(model, window=(300, 410), overlap=0)(img)
    assert model.calls == [(1, 3, 300, 410)]
    model.calls.clear()
    seg = TiledSegmenter(model, window=64, overlap=16, batch_size=3)
    done = []
    tiled = seg(img, progress=done.append)
    assert np.array_equal(tiled, whole)
    assert sum(done) == seg.num_windows(300, 410) == len(window_starts(300, 64, 16)) * len(
        window_starts(410, 64, 16))
    assert max(c[0] for c in model.calls) == 3
    # only a band of rows is held as float sums, not the image
    assert seg.max_buffer_rows <= 64 + (64 - 16)


class _EdgeBiasedModel(_PixelModel):
    """Wrong near window edges (predicts class 2 within 8 px of a window border), right in the
    middle (class 0): a crop-and-stitch without overlap shows seams, blending does not."""

    def encode_decode(self, inputs, metas):
        b, _, h, w = inputs.shape
        logits = torch.zeros(b, 3, h, w)
        logits[:, 0] = 1.0
        edge = torch.ones(h, w, dtype=torch.bool)
        edge[8:h - 8, 8:w - 8] = False
        logits[:, 2][:, edge] = 2.0
        return logits


def test_blending_hides_window_seams():
    img = np.zeros((200, 200, 3), np.uint8)
    model = _EdgeBiasedModel().eval()
    blended = TiledSegmenter(model, window=64, overlap=32)(img)
    interior = blended[8:-8, 8:-8]  # the image's own border has no second window
    assert (interior == 0).mean() > 0.99
    no_overlap = TiledSegmenter(model, window=50, overlap=0)(img)
    assert (no_overlap[8:-8, 8:-8] == 2).mean() > 0.2  # seams


def test_tiny_csunet_through_its_own_preprocessor(tiny_csunet_cfg):
    from mmseg.registry import MODELS
    model = MODELS.build(tiny_csunet_cfg(num_classes=3)).eval()
    img = np.random.default_rng(1).integers(0, 256, (70, 150, 3), dtype=np.uint8)
    seg = TiledSegmenter(model, window=64, overlap=16)
    labels = seg(img)
    assert labels.shape == (70, 150) and labels.dtype == np.uint8 and labels.max() <= 2
    # a window larger than the image: the image is segmented whole, like mmseg's 'whole' mode
    from mmseg.structures import SegDataSample
    whole = TiledSegmenter(model, window=512)(img)
    data = model.data_preprocessor(dict(inputs=[torch.from_numpy(img.transpose(2, 0, 1).copy())],
                                        data_samples=[SegDataSample()]), False)
    meta = dict(img_shape=(70, 150), ori_shape=(70, 150), pad_shape=(70, 150))
    with torch.no_grad():
        ref = model.encode_decode(data['inputs'], [meta]).argmax(1)[0].numpy()
    assert np.array_equal(whole, ref)


def test_scale_segments_the_resized_image_and_returns_the_input_size():
    """scale=0.25 (a model trained at 1/4 resolution): the model sees the image resized by 1/4
    (mmcv's rounding), and the labels, from the probabilities resized back, have the input's
    size and equal the full-resolution labels where the image is locally constant."""
    img = np.zeros((400, 260, 3), np.uint8)
    img[:, :130] = (20, 200, 90)  # two flat halves: the labels must split at column 130
    img[:, 130:] = (230, 10, 160)
    model = _PixelModel().eval()
    full = TiledSegmenter(model, window=512)(img)
    assert full[0, 0] != full[0, -1]  # the model tells the halves apart
    seg = TiledSegmenter(model, window=64, overlap=16, scale=0.25)
    model.calls.clear()
    labels = seg(img)
    assert labels.shape == (400, 260) and labels.dtype == np.uint8
    assert seg.scaled_size(400, 260) == (100, 65)
    assert all(h <= 64 and w <= 64 for *_, h, w in model.calls)
    assert seg.num_windows(400, 260) == sum(c[0] for c in model.calls)
    # Away from the boundary (bilinear resizing blurs it over a few pixels) the labels agree.
    assert (labels[:, :120] == full[:, :120]).all() and (labels[:, 140:] == full[:, 140:]).all()
    with pytest.raises(ValueError, match='scale'):
        TiledSegmenter(model, scale=0)
