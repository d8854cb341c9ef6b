"""SimMIMSwinResMLP: CS-UNet's Swin branch with SimMIM's mask token (mmpretrain's SimMIM)."""
import pytest
import torch

from csunet.models.backbones import SimMIMSwinResMLP, SwinResMLP

SMALL = dict(embed_dims=16, depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4), window_size=4,
             drop_path_rate=0., out_indices=(3, ))


def test_without_mask_it_is_swin_resmlp():
    torch.manual_seed(0)
    model = SimMIMSwinResMLP(**SMALL).eval()
    plain = SwinResMLP(**SMALL).eval()
    missing = plain.load_state_dict(model.state_dict(), strict=False)
    assert missing.unexpected_keys == ['mask_token'] and not missing.missing_keys
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(model(x)[0], plain(x)[0], rtol=0, atol=0)
    torch.testing.assert_close(model(x, torch.zeros(2, 16, 16))[0], plain(x)[0])


def test_masked_patches_lose_their_pixels():
    """A hidden patch's pixels cannot reach the output; a visible one's do; all hidden: the
    output no longer depends on the image."""
    torch.manual_seed(0)
    model = SimMIMSwinResMLP(**SMALL).eval()
    x = torch.randn(1, 3, 64, 64)
    mask = torch.zeros(1, 16, 16)
    mask[:, :8] = 1  # top half hidden (patch rows 0-7 = pixel rows 0-31)
    y = x.clone()
    y[..., :32, :] += 5  # change only hidden pixels
    torch.testing.assert_close(model(y, mask)[0], model(x, mask)[0])
    y = x.clone()
    y[..., 40:, :] += 5  # change visible pixels
    assert not torch.allclose(model(y, mask)[0], model(x, mask)[0])
    full = torch.ones(1, 16, 16)
    torch.testing.assert_close(model(torch.randn(1, 3, 64, 64), full)[0], model(x, full)[0])


def test_mask_token_gets_a_gradient_and_wrong_masks_fail():
    model = SimMIMSwinResMLP(**SMALL)
    mask = torch.zeros(2, 16, 16)
    mask[:, ::2] = 1
    model(torch.randn(2, 3, 64, 64), mask)[0].sum().backward()
    assert model.mask_token.grad is not None and model.mask_token.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r'mask \(2, 8, 8\) does not match the patch grid'):
        model(torch.randn(2, 3, 64, 64), torch.zeros(2, 8, 8))


def test_registered_in_mmpretrain_for_simmim():
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')  # SimMIM's neck and head are mmpretrain's
    assert MODELS.get('SimMIMSwinResMLP') is SimMIMSwinResMLP
    simmim = MODELS.build(dict(
        type='SimMIM', backbone=dict(type='SimMIMSwinResMLP', **SMALL),
        neck=dict(type='SimMIMLinearDecoder', in_channels=128, encoder_stride=32),
        head=dict(type='SimMIMHead', patch_size=4,
                  loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3))))
    from mmpretrain.structures import DataSample
    samples = []
    for _ in range(2):
        s = DataSample()
        s.set_mask(torch.randint(0, 2, (16, 16)))
        samples.append(s)
    loss = simmim.loss(torch.randn(2, 3, 64, 64), samples)['loss']
    assert loss.ndim == 0 and loss > 0
