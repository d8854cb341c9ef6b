# Baseline: pure Swin-Unet (CS-UNet without its CNN branch), Swin-T original, random init, EBC3,
# NASA two-phase schedule. For ImageNet Swin-T see configs/_base_/pretraining/swin_imagenet.py.
_base_ = [
    '../_base_/csunet_experiment.py',
    '../_base_/datasets/ebc3.py',
]
model = dict(
    backbone=dict(cnn=None),
    decode_head=dict(num_classes=2),
    test_cfg=_base_.model_test_cfg)
