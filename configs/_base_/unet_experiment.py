# mmseg's UNet baseline (UNet backbone s5-d16 + FCNHead, as mmseg's
# configs/_base_/models/fcn_unet_s5-d16.py but BN instead of SyncBN and no auxiliary head), trained
# like CS-UNet: 0.7 BCE + 0.3 Dice, NASA two-phase schedule, random init. Leaves add a dataset
# fragment and set num_classes and the dataset's test_cfg (configs/baselines/).
_base_ = ['./csunet_experiment.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    _delete_=True,
    type='EncoderDecoder',
    # Same preprocessing as CS-UNet (ImageNet statistics, batches padded to a multiple of 32).
    data_preprocessor=_base_.data_preprocessor,
    backbone=dict(
        type='UNet',
        in_channels=3,
        base_channels=64,
        num_stages=5,
        strides=(1, 1, 1, 1, 1),
        enc_num_convs=(2, 2, 2, 2, 2),
        dec_num_convs=(2, 2, 2, 2),
        downsamples=(True, True, True, True),
        enc_dilations=(1, 1, 1, 1, 1),
        dec_dilations=(1, 1, 1, 1),
        with_cp=False,
        conv_cfg=None,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        upsample_cfg=dict(type='InterpConv'),
        norm_eval=False),
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        in_index=4,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=3,  # leaves set their dataset's
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))  # leaves set their dataset's (_base_.model_test_cfg)
