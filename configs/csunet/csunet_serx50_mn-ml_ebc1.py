# CS-UNet on ebc1: CNN seresnext50_32x4d (micronet) + Swin-T original (microlite).
# Written by tools/misc/experiments.py write --encoder seresnext50_32x4d \
#     --cnn-pretrain micronet --swin original --swin-pretrain microlite \
#     --dataset ebc1
# Checkpoint files: see configs/_base_/pretraining/.
_base_ = [
    '../_base_/csunet_experiment.py',
    '../_base_/datasets/ebc1.py',
    '../_base_/encoders/seresnext50_32x4d.py',
    '../_base_/swin/original.py',
    '../_base_/pretraining/cnn_micronet.py',
    '../_base_/pretraining/swin_microlite.py',
]
model = dict(
    backbone=dict(
        swin=dict(
            depths=_base_.swin_variant,
            init_cfg=dict(
                _base_.swin_init_cfg,
                checkpoint='checkpoints/swin_original_microlite.pth',
                _delete_=True)),
        cnn=dict(
            model_name=_base_.cnn_converted_model_name,
            init_cfg=dict(
                _base_.cnn_init_cfg,
                checkpoint='checkpoints/cnn_seresnext50_32x4d_micronet.pth',
                _delete_=True))),
    decode_head=dict(
        # Swin-T widths + TimmCNN('legacy_seresnext50_32x4d').out_channels (timm feature_info)
        in_channels=[96, 192, 384, 768, 256, 512, 1024, 2048],
        decoder_depths=_base_.swin_variant,
        num_classes=2),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
