# HiFormer (Heidari et al. 2023, the official code amirhossein-kz/HiFormer): a ResNet (cut after
# layer3) and Swin-T stages 0-2 fused by the Double-Level Fusion (csunet.models.backbones.
# HiFormerEncoder), its convolution + GroupNorm decoder with bilinear upsampling (HiFormerHead),
# in mmseg's EncoderDecoder. Variants (csunet.models.backbones.HIFORMER_ARCHS): S and L use a
# ResNet-34, B (the default here) a ResNet-50 like CS-UNet. Loss: CS-UNet's 0.7 BCE + 0.3 Dice,
# as for every model of our tables; their own recipe (SGD, poly, 0.4 CE + 0.6 Dice, 224²) is
# _base_/schedules/sgd_poly_ce-dice.py.
#
# Two defects of the official code are fixed by default and reproducible with the backbone's
# official_* flags (see csunet/models/backbones/hiformer.py): official_swin_reinit=True
# re-initialises the loaded Swin-T weights as its init order does; official_dlf_output=True
# discards the DLF's per-level transformer outputs, so the fusion does not reach the logits.
custom_imports = dict(imports=['csunet'], allow_failed_imports=False)

# Window of the Swin blocks: 8 tiles the maps of 512² crops and 1024² images (strides 4/8/16:
# 128/64/32 at 512²); the official 224² model uses 7. Pretrained Swin-T bias tables are
# interpolated to it when loaded.
hiformer_window_size = 8
# Input side the DLF position embeddings are sized for (the official 224; our training crops are
# 512²). Other sizes (1024² test images, smaller crops) resize them bicubically. Changes the
# parameter count: (1 + (s/4)²) * 96 + (1 + (s/16)²) * 384.
hiformer_img_size = 512

data_preprocessor = dict(
    type='SegDataPreProcessor',
    # The same preprocessing as CS-UNet (_base_/models/csunet.py): ImageNet statistics, batches
    # padded to a multiple of 32 (the encoder pads any size to a multiple of 16 itself).
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)

model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='HiFormerEncoder',
        arch='b',  # 's' | 'b' | 'l': the ResNet and the DLF settings
        img_size=hiformer_img_size,
        embed_dims=96,
        depths=[2, 2, 6],  # Swin-T ("original"); [2, 2, 2] for the "intermediate" variant
        num_heads=[3, 6, 12],
        window_size=hiformer_window_size,
        drop_path_rate=0.1,
        dlf_drop_path_rate=0.,
        official_dlf_output=False,
        official_swin_reinit=False,
        # Swin-T weights, e.g. dict(type='Pretrained', checkpoint='checkpoints/swin_tiny_patch4_
        # window7_224.pth') (Microsoft/timm files or our converted ones: add prefix='backbone.swin.'
        # for mmpretrain2csunet / `--out-prefix backbone.swin.` files).
        swin_init_cfg=None,
        # The ResNet (model_name from arch: resnet50 for B), with its own ImageNet / MicroNet
        # weights as for CS-UNet's CNN branch (_base_/pretraining/cnn_*.py).
        cnn=dict(init_cfg=None)),
    decode_head=dict(
        type='HiFormerHead',
        in_channels=[96, 384],
        channels=16,
        mid_channels=128,
        num_groups=32,
        num_classes=3,  # leaves set their dataset's
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))  # leaves set their dataset's (_base_.model_test_cfg)
