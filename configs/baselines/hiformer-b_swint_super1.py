# HiFormer-B (ResNet-50 + Swin-T + Double-Level Fusion) on super1: Swin-T original (none), trained like CS-UNet
# (0.7 BCE + 0.3 Dice, NASA two-phase schedule); its own recipe:
# _base_/schedules/sgd_poly_ce-dice.py.
# Written by tools/misc/experiments.py baseline --model hiformer-b --swin original \
#     --swin-pretrain none --dataset super1
# Checkpoint files: see configs/_base_/pretraining/.
_base_ = [
    '../_base_/models/hiformer.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/nasa_two_phase.py',
    '../_base_/datasets/super1.py',
    '../_base_/pretraining/swin_none.py',
    '../_base_/pretraining/cnn_none.py',
]
log_processor = dict(by_epoch=True)
model = dict(
    backbone=dict(
        depths=[2, 2, 6],  # Swin-T original, stages 0-2
        swin_init_cfg=_base_.swin_init_cfg,
        cnn=dict(
            init_cfg=_base_.cnn_init_cfg)),
    decode_head=dict(num_classes=3),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
