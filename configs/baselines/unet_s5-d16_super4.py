# Baseline: mmseg's UNet (s5-d16 + FCNHead, configs/_base_/unet_experiment.py) on Super4, random
# init, trained like CS-UNet (0.7 BCE + 0.3 Dice, NASA two-phase schedule).
_base_ = [
    '../_base_/unet_experiment.py',
    '../_base_/datasets/super4.py',
]
model = dict(decode_head=dict(num_classes=3), test_cfg=_base_.model_test_cfg)
