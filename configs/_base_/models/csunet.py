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
    # mmseg's EncoderDecoder that derives the decoder's mirrored settings from the encoder at
    # build time (and refuses a config where they disagree): see csunet.models.CSUNet.
    type='CSUNet',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='CSUNetEncoder',
        # The Swin-T variant (csunet.models.backbones.SWIN_ARCHS): embed dims 96, depths
        # (2, 2, 6, 2), heads (3, 6, 12, 24), window 8, drop_path_rate 0.2; any of them can be
        # overridden here, the decoder follows.
        swin=dict(arch='original', patch_size=4, init_cfg=None),
        cnn=dict(model_name='resnet50', init_cfg=None)),
    decode_head=dict(
        type='SwinExpandDecoder',
        # Derived from the encoder by CSUNet: in_channels (Swin widths, then the CNN's),
        # channels, decoder_depths and num_heads (encoder stages 2, 1, 0 mirrored, Swin-Unet),
        # bottleneck_depth, window_size and drop_path_rate (the encoder's schedule, mirrored).
        dropout_ratio=0.,
        num_classes=3,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
