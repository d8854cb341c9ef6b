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
# The decoder's widths, depths, heads and drop-path rate follow the encoder (CSUNet segmentor).
model = dict(
    backbone=dict(
        swin=dict(
            arch=_base_.swin_variant,
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
    decode_head=dict(num_classes=2),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
