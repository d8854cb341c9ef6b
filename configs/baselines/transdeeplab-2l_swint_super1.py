# Baseline: TransDeepLab with a 2-level Swin spatial pyramid (the paper's best), Swin-T stages 0-2
# (depths 2, 2, 6), random init, on Super1, trained like CS-UNet (0.7 BCE + 0.3 Dice, NASA
# two-phase schedule). Model and pyramid levels: configs/_base_/models/transdeeplab.py; their own
# recipe: configs/_base_/schedules/sgd_poly_ce-dice.py.
_base_ = [
    '../_base_/models/transdeeplab.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/nasa_two_phase.py',
    '../_base_/datasets/super1.py',
]
log_processor = dict(by_epoch=True)
model = dict(decode_head=dict(num_classes=3), test_cfg=_base_.model_test_cfg)
