# CPU budget: configs/baselines/swinunet_swint_ebc1.py (Swin-Unet, random init) on EBC1 at 1/4
# scale (_base_/datasets/ebc1_256x256.py).
_base_ = [
    '../_base_/csunet_experiment.py',
    '../_base_/datasets/ebc1_256x256.py',
]
model = dict(
    backbone=dict(cnn=None),
    decode_head=dict(num_classes=2),
    test_cfg=_base_.model_test_cfg)
