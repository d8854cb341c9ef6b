# CPU budget: configs/baselines/unet_s5-d16_ebc1.py (mmseg's UNet, random init) on EBC1 at 1/4
# scale (_base_/datasets/ebc1_256x256.py).
_base_ = [
    '../_base_/unet_experiment.py',
    '../_base_/datasets/ebc1_256x256.py',
]
model = dict(decode_head=dict(num_classes=2), test_cfg=_base_.model_test_cfg)
