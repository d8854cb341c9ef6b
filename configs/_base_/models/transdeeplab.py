# TransDeepLab (Azad et al. 2022, the official code rezazad68/transdeeplab): Swin-T stages 0-2 and
# a Swin spatial pyramid (csunet.models.backbones.TransDeepLabEncoder), its Swin decoder with
# channel-keeping patch expanding and a bias-free 1x1 classifier (TransDeepLabHead), in mmseg's
# EncoderDecoder. Loss: CS-UNet's 0.7 BCE + 0.3 Dice, as for every model of our tables; their own
# recipe (SGD, poly, 0.4 CE + 0.6 Dice) is _base_/schedules/sgd_poly_ce-dice.py.
custom_imports = dict(imports=['csunet'], allow_failed_imports=False)

# Window of the encoder and decoder blocks: 8 tiles the maps of 512² crops and 1024² images
# (strides 4/8/16: 128/64/32 at 512²); the official 224² model uses 7. Pretrained Swin-T bias
# tables are interpolated to it when loaded.
tdl_window_size = 8

# Swin spatial pyramid (SSPP) levels, explicit: window side and blocks of each level. The official
# code takes every divisor of the stride-16 map side from a start window on, with 1 block for the
# window covering the whole map and 2 otherwise; at its 224² (map 14) that gives
# csunet.models.backbones.TRANSDEEPLAB_SPP_224: (14), (7, 14), (2, 7, 14), (1, 2, 7, 14) for 1-4
# levels. At 512² (map 32) the same rule would give (8, 16, 32) for the 2-level model, another
# model, so here the levels keep their roles at 512²: the whole map (32, one block), half of it
# (16), and the two smallest windows as they are (2, 1).
tdl_spp_levels = dict(
    l1=dict(spp_window_sizes=[32], spp_depths=[1]),
    l2=dict(spp_window_sizes=[16, 32], spp_depths=[2, 1]),
    l3=dict(spp_window_sizes=[2, 16, 32], spp_depths=[2, 2, 1]),
    l4=dict(spp_window_sizes=[1, 2, 16, 32], spp_depths=[2, 2, 2, 1]),
)

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
        type='TransDeepLabEncoder',
        embed_dims=96,
        depths=[2, 2, 6],  # Swin-T ("original"); [2, 2, 2] for the "intermediate" variant
        num_heads=[3, 6, 12],
        window_size=tdl_window_size,
        drop_path_rate=0.1,
        **tdl_spp_levels['l2'],  # the paper's best
        spp_num_heads=3,
        spp_drop_path_rate=0.1,
        spp_dropout=0.1,
        # Swin-T weights, e.g. dict(type='Pretrained', checkpoint='checkpoints/swin_tiny_patch4_
        # window7_224.pth') (Microsoft/timm files or our converted ones: add prefix='backbone.swin.'
        # for mmpretrain2csunet / `--out-prefix backbone.swin.` files).
        init_cfg=None),
    decode_head=dict(
        type='TransDeepLabHead',
        in_channels=[96, 96],
        channels=192,
        depth=2,
        last_layer_depth=6,
        num_heads=3,
        window_size=tdl_window_size,
        drop_path_rate=0.1,
        num_classes=3,  # leaves set their dataset's
        align_corners=False,
        # The official decoder also starts from Swin-T (its stages 0 and 1): the same
        # Pretrained init_cfg here does that.
        init_cfg=None,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))  # leaves set their dataset's (_base_.model_test_cfg)
