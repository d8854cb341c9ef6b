"""End-to-end behaviour of the whole CS-UNet model (EncoderDecoder) under training."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def blob_image(size=64, seed=0):
    """A grey image with large and small bright discs on a darker matrix, and its 3-class mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    mask = np.zeros((size, size), np.int64)
    for radius, label, count in ((9, 1, 3), (3, 2, 8)):
        for _ in range(count):
            cy, cx = rng.integers(radius, size - radius, 2)
            mask[(yy - cy)**2 + (xx - cx)**2 <= radius**2] = label
    img = np.choose(mask, [0.2, 0.8, 0.5]) + rng.normal(0, 0.05, mask.shape)
    x = torch.tensor(img, dtype=torch.float32).expand(3, -1, -1)
    return ((x - 0.5) / 0.25).unsqueeze(0), torch.tensor(mask)


def sample_for(mask):
    s = SegDataSample()
    s.gt_sem_seg = PixelData(data=mask[None])
    h, w = mask.shape
    s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    return s


def test_gradients_reach_both_branches_and_the_decoder(tiny_csunet_cfg):
    model = MODELS.build(tiny_csunet_cfg())
    x, mask = blob_image()
    losses = model(x, [sample_for(mask)], mode='loss')
    losses['decode.loss_bce_dice'].backward()
    groups = {
        'swin': model.backbone.swin.layers[0].blocks[0].attn.qkv.weight,
        'swin_deep': model.backbone.swin.layers[3].blocks[0].mlp.fc3.weight,
        'cnn': model.backbone.cnn.model.conv1.weight,
        # TimmCNN builds timm's ResNets with zero_init_last=False, so each block's last BN (bn2
        # of a BasicBlock) starts with gamma 1 as in torchvision. With timm's default (gamma 0)
        # the residual path of every block would get an exactly zero gradient at the first step
        # and, in the first block of the last stage, only the projection shortcut would learn.
        'cnn_deep': model.backbone.cnn.model.layer4[0].conv2.weight,  # resnet18: BasicBlock
        'cnn_shortcut': model.backbone.cnn.model.layer4[0].downsample[0].weight,
        'decoder': model.decode_head.layers_up[0].blocks[0].attn.proj.weight,
        'fusion': model.decode_head.concat_linears[2].weight,
        'classifier': model.decode_head.conv_seg.weight,
    }
    for name, param in groups.items():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_tiny_model_overfits_one_image(tiny_csunet_cfg):
    model = MODELS.build(tiny_csunet_cfg())
    model.init_weights()
    x, mask = blob_image()
    samples = [sample_for(mask)]
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(80):
        loss = model(x, samples, mode='loss')['decode.loss_bce_dice']
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], losses[::10]
    model.eval()
    with torch.no_grad():
        pred = model(x, samples, mode='predict')[0].pred_sem_seg.data[0]
    assert (pred == mask).float().mean() > 0.95
