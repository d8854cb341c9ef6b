"""The memory/speed work on the Swin branch and the decoder changes no number.

``reference`` below is the implementation as it was before that work (commit 192dfae, verbatim
but for names): every window attention materialised its (B * nW, heads, N, N) mask, every block
padded, the Swin maps were copied to NCHW, PatchExpand rearranged before its LayerNorm and the
classifier tail ran on the whole full-resolution map. The tests run a CS-UNet once with the
current code and once with those methods patched in, on the same weights, inputs and random
state, and compare the logits, the loss and every parameter's gradient; likewise with and
without activation checkpointing (``with_cp``, ``selective_cp``), and with the classifier tail
chunked.
"""
import contextlib
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from csunet.models import SwinExpandDecoder, SwinResMLP
from csunet.models.layers import PatchExpand, SwinResMLPStage
from csunet.models.layers.swin_block import SwinResMLPBlock, window_partition, window_reverse
from csunet.models.layers.window_attention import WindowAttention

TOL = dict(rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------- the implementation before
def _ref_window_attention(self, x, mask=None):
    bn, n, c = x.shape
    qkv = self.qkv(x).reshape(bn, n, 3, self.num_heads, c // self.num_heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
    attn_mask = self.relative_position_bias().unsqueeze(0)
    if mask is not None:
        nw = mask.shape[0]
        attn_mask = (attn_mask.unsqueeze(0) + mask[None, :, None]).expand(
            bn // nw, -1, -1, -1, -1).reshape(bn, self.num_heads, n, n)
    x = F.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_mask.to(q.dtype),
        dropout_p=self.attn_drop if self.training else 0.)
    x = x.transpose(1, 2).reshape(bn, n, c)
    return self.proj_drop(self.proj(x))


def _ref_block_attention(self, x):
    b, h, w, c = x.shape
    ws = self.window_size
    hp, wp = math.ceil(h / ws) * ws, math.ceil(w / ws) * ws
    x = F.pad(x, (0, 0, 0, wp - w, 0, hp - h))
    shift = (self.shift_size if hp > ws else 0, self.shift_size if wp > ws else 0)
    if any(shift):
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    windows = self.attn(window_partition(x, ws), self._mask((h, w), (hp, wp), shift, x.device))
    x = window_reverse(windows, ws, hp, wp)
    if any(shift):
        x = torch.roll(x, shifts=shift, dims=(1, 2))
    return x[:, :h, :w, :]


def _ref_stage(self, x):
    for block in self.blocks:
        x = block(x)
    resample = getattr(self, 'downsample', None) or getattr(self, 'upsample', None)
    return x, (resample(x) if resample is not None else x)


def _ref_patch_expand(self, x):
    b, h, w, _ = x.shape
    s = self.scale
    x = self.expand(x).view(b, h, w, s, s, self.out_dim)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, h * s, w * s, self.out_dim)
    return self.norm(x)


def _ref_swin(self, x):
    x = self.pos_drop(self.patch_embed(x))
    last = len(self.layers) - 1
    outs = []
    for i, stage in enumerate(self.layers):
        skip = i in self.out_indices
        if skip and i < last and self.skip_source == 'stage_input':
            outs.append(x.permute(0, 3, 1, 2).contiguous())
            skip = False
        out, x = stage(x)
        if skip:
            outs.append(getattr(self, f'norm{i}')(out).permute(0, 3, 1, 2).contiguous())
    return tuple(outs)


def _ref_decoder(self, inputs):
    feats = [f.permute(0, 2, 3, 1) for f in self._transform_inputs(inputs)]
    swin, cnn = feats[:4], feats[4:]
    x = swin[3] if not self.has_cnn else torch.cat([swin[3], cnn[3]], dim=-1)
    x = self.bottleneck_expand(x)
    for i, level in enumerate((2, 1, 0)):
        parts = [x, swin[level]] + ([cnn[level]] if self.has_cnn else [])
        x = self.concat_linears[i](torch.cat(parts, dim=-1))
        _, x = self.layers_up[i](x)
    x = self.final_expand(self.norm_up(x)).permute(0, 3, 1, 2)
    return self.cls_seg(x)


@contextlib.contextmanager
def reference_implementation():
    mp = pytest.MonkeyPatch()
    for cls, name, fn in ((WindowAttention, 'forward', _ref_window_attention),
                          (SwinResMLPBlock, '_attention', _ref_block_attention),
                          (SwinResMLPStage, 'forward', _ref_stage),
                          (PatchExpand, 'forward', _ref_patch_expand),
                          (SwinResMLP, 'forward', _ref_swin),
                          (SwinExpandDecoder, 'forward', _ref_decoder)):
        mp.setattr(cls, name, fn)
    try:
        yield
    finally:
        mp.undo()


# ---------------------------------------------------------------------------- helpers
def make_samples(n, h, w, num_classes=3):
    samples = []
    for _ in range(n):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w)))
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        samples.append(s)
    return samples


def build(tiny_csunet_cfg, with_cp=False, cnn='resnet18', selective_cp=True, channels_last=True):
    cfg = tiny_csunet_cfg(cnn=cnn)
    # Two blocks per level (regular + shifted windows) and stochastic depth, so that shift
    # masks, padding masks and drop-path random masks are all exercised.
    cfg.backbone.swin.update(depths=(2, 2, 2, 2), drop_path_rate=0.2, with_cp=with_cp,
                             selective_cp=selective_cp)
    cfg.backbone.cnn.update(with_cp=with_cp, channels_last=channels_last)
    cfg.decode_head.update(decoder_depths=(2, 2, 2), bottleneck_depth=2, drop_path_rate=0.2,
                           with_cp=with_cp, selective_cp=selective_cp)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def build_pair(tiny_csunet_cfg, **variant):
    """The default model and a variant of it (``build`` keywords) holding the same weights."""
    default = build(tiny_csunet_cfg)
    other = build(tiny_csunet_cfg, **variant)
    other.load_state_dict(default.state_dict())
    return default, other


def train_step(model, x, samples, seed=1):
    """Loss, logits and gradients of one training forward/backward from a fixed RNG state."""
    model.train()
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    feats = model.extract_feat(x)
    logits = model.decode_head(feats)
    loss = model.decode_head.loss_by_feat(logits, samples)['loss_bce_dice']
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return loss.detach(), logits.detach(), grads


def assert_same(a, b):
    (loss_a, logits_a, grads_a), (loss_b, logits_b, grads_b) = a, b
    torch.testing.assert_close(loss_a, loss_b, **TOL)
    torch.testing.assert_close(logits_a, logits_b, **TOL)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], **TOL, msg=name)


# Odd sizes: padded to 32 by the encoder, then windows padded and masked inside the blocks.
SIZE = (136, 104)


@pytest.fixture(autouse=True)
def selective_cp_on_every_map(monkeypatch):
    """The test maps are far below the size from which selective checkpointing runs by
    default; here it runs on all of them."""
    monkeypatch.setattr(SwinResMLPStage, 'SELECTIVE_CP_MIN_BYTES', 0)


@pytest.fixture
def inputs():
    torch.manual_seed(123)
    return torch.randn(2, 3, *SIZE), make_samples(2, *SIZE)


@pytest.mark.parametrize('chunk_bytes', [None, 4096])
def test_training_step_equals_the_previous_implementation(tiny_csunet_cfg, inputs, chunk_bytes,
                                                          monkeypatch):
    model = build(tiny_csunet_cfg)
    x, samples = inputs
    if chunk_bytes:  # a chunk of a few input rows: the tail runs checkpointed, chunk by chunk
        monkeypatch.setattr(SwinExpandDecoder, 'TAIL_CHUNK_BYTES', chunk_bytes)
    new = train_step(model, x, samples)
    with reference_implementation():
        ref = train_step(model, x, samples)
    assert len(new[2]) == sum(1 for _ in model.parameters())  # every parameter got a gradient
    assert_same(new, ref)


@pytest.mark.parametrize('chunk_bytes', [None, 4096])
def test_inference_equals_the_previous_implementation(tiny_csunet_cfg, inputs, chunk_bytes,
                                                      monkeypatch):
    model = build(tiny_csunet_cfg).eval()
    x, _ = inputs
    if chunk_bytes:
        monkeypatch.setattr(SwinExpandDecoder, 'TAIL_CHUNK_BYTES', chunk_bytes)
    with torch.no_grad():
        new = model(x, mode='tensor')
        with reference_implementation():
            ref = model(x, mode='tensor')
    torch.testing.assert_close(new, ref, **TOL)


def test_with_cp_changes_no_output_or_gradient(tiny_csunet_cfg, inputs):
    x, samples = inputs
    plain, cp_model = build_pair(tiny_csunet_cfg, with_cp=True)
    assert all(stage.with_cp for stage in cp_model.backbone.swin.layers)
    assert all(stage.with_cp for stage in cp_model.decode_head.layers_up)
    assert cp_model.backbone.cnn.with_cp
    assert_same(train_step(cp_model, x, samples), train_step(plain, x, samples))
    # The CNN's BatchNorms updated their statistics once, as without checkpointing.
    for (name, a), b in zip(cp_model.named_buffers(), plain.buffers()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    # Same drop-path masks too: a different seed gives a different result (so the equality
    # above is not that of a model without stochastic depth).
    other = train_step(plain, x, samples, seed=2)
    assert not torch.allclose(other[1], train_step(plain, x, samples)[1])


@pytest.mark.parametrize('mode', ['selective_cp', 'with_cp'])
def test_checkpointing_recomputes_the_blocks(tiny_csunet_cfg, inputs, mode):
    """Checkpointing is really on: the blocks (and with ``with_cp`` the CNN stages) run again
    during backward; without either, they run once."""
    x, samples = inputs
    counts = {}
    for variant in ('none', mode):
        model = build(tiny_csunet_cfg, with_cp=variant == 'with_cp',
                      selective_cp=variant == 'selective_cp')
        calls = dict(block=[], cnn=[])
        for block in model.modules():
            if isinstance(block, SwinResMLPBlock):
                # A pre-hook: the recomputation in backward stops as soon as it has what
                # backward needs, so a block's forward hook may never fire there.
                block.register_forward_pre_hook(lambda *_: calls['block'].append(1))
        model.backbone.cnn.model.layer2.register_forward_pre_hook(
            lambda *_: calls['cnn'].append(1))
        train_step(model, x, samples)
        counts[variant] = {k: len(v) for k, v in calls.items()}
    assert counts[mode]['block'] == 2 * counts['none']['block']
    assert counts[mode]['cnn'] == (2 if mode == 'with_cp' else 1) * counts['none']['cnn']


def test_selective_cp_skips_small_maps(tiny_csunet_cfg, inputs, monkeypatch):
    x, samples = inputs
    model = build(tiny_csunet_cfg)
    calls = []  # input bytes of the first block, at every call
    model.backbone.swin.layers[0].blocks[0].register_forward_pre_hook(
        lambda _, args: calls.append(args[0].numel() * args[0].element_size()))
    train_step(model, x, samples)
    assert len(calls) == 2  # threshold 0 (the fixture): forward + recomputation
    monkeypatch.setattr(SwinResMLPStage, 'SELECTIVE_CP_MIN_BYTES', calls[0])
    train_step(model, x, samples)
    assert len(calls) == 4  # at the threshold: recomputed
    monkeypatch.setattr(SwinResMLPStage, 'SELECTIVE_CP_MIN_BYTES', calls[0] + 1)
    train_step(model, x, samples)
    assert len(calls) == 5  # below it: run once


def test_without_selective_cp_the_step_is_the_same(tiny_csunet_cfg, inputs):
    x, samples = inputs
    selective, plain = build_pair(tiny_csunet_cfg, selective_cp=False)
    assert all(stage.selective_cp for stage in selective.backbone.swin.layers)
    assert not any(stage.selective_cp for stage in plain.decode_head.layers_up)
    assert_same(train_step(selective, x, samples), train_step(plain, x, samples))


def test_with_cp_is_off_in_eval_and_without_grad(tiny_csunet_cfg, inputs):
    x, _ = inputs
    plain, model = build_pair(tiny_csunet_cfg, with_cp=True)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x, mode='tensor'), plain.eval()(x, mode='tensor'))


def test_swin_maps_are_channels_last_views(tiny_csunet_cfg):
    """The Swin branch returns its token grids as NCHW views (no copy), as the decoder reads
    them back as tokens."""
    swin = build(tiny_csunet_cfg).backbone.swin
    for out in swin(torch.randn(1, 3, 64, 96)):
        assert out.is_contiguous(memory_format=torch.channels_last)
        assert out.permute(0, 2, 3, 1).is_contiguous()


def test_channels_last_cnn_changes_no_output_or_gradient(tiny_csunet_cfg, inputs):
    x, samples = inputs
    fast, plain = build_pair(tiny_csunet_cfg, channels_last=False)
    assert fast.backbone.cnn.channels_last and not plain.backbone.cnn.channels_last
    assert_same(train_step(fast, x, samples), train_step(plain, x, samples))
    # The BatchNorm statistics the step updated are the same too.
    for (name, a), b in zip(fast.named_buffers(), plain.buffers()):
        torch.testing.assert_close(a, b, **TOL, msg=name)
    with torch.no_grad():
        feats = fast.eval().backbone.cnn(x)
    assert all(f.is_contiguous(memory_format=torch.channels_last) for f in feats)
