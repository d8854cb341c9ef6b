# CS-UNet: CSUNetEncoder (Swin-T with ResMLP + a timm CNN) and SwinExpandDecoder, loss 0.7 BCE +
# 0.3 Dice. Defaults: Swin "original" depths (2, 2, 6, 2), CNN resnet50, both from random
# weights; fragments under _base_/encoders and _base_/pretraining change those axes.
custom_imports = dict(imports=['csunet'], allow_failed_imports=False)

data_preprocessor = dict(
    type='SegDataPreProcessor',
    # ImageNet statistics, as in NASA's recipe (grey micrographs are read as 3 equal channels).
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # Batches are stacked at a multiple of 32 (labels padded with 255, ignored). The encoder pads
    # any other size itself, so test images need no padding here.
    size_divisor=32)

model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='CSUNetEncoder',
        swin=dict(
            embed_dims=96,
            patch_size=4,
            depths='original',  # SWIN_DEPTHS: (2, 2, 6, 2)
            num_heads=(3, 6, 12, 24),
            window_size=8,
            drop_path_rate=0.2,
            init_cfg=None),
        cnn=dict(model_name='resnet50', init_cfg=None)),
    decode_head=dict(
        type='SwinExpandDecoder',
        # Swin widths, then the CNN's (resnet50); CSUNetEncoder.out_channels gives them.
        in_channels=[96, 192, 384, 768, 256, 512, 1024, 2048],
        channels=96,
        # The encoder's Swin variant: the decoder mirrors its stages 2, 1, 0 (Swin-Unet), so
        # (6, 2, 2) here; blocks can be initialised from the encoder's.
        decoder_depths='original',
        num_heads=(12, 6, 3),
        window_size=8,
        # The encoder's rate: the decoder reuses the encoder's stochastic-depth schedule mirrored
        # (stride 16 <- stage 2, 8 <- 1, 4 <- 0), as the official CS-UNet / Swin-Unet do.
        drop_path_rate=0.2,
        dropout_ratio=0.,
        num_classes=3,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
