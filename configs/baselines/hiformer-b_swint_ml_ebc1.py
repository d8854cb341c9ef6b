# HiFormer-B (ResNet-50 + Swin-T + Double-Level Fusion) on ebc1: Swin-T original (microlite), trained like CS-UNet
# (0.7 BCE + 0.3 Dice, NASA two-phase schedule); its own recipe:
# _base_/schedules/sgd_poly_ce-dice.py.
# Written by tools/misc/experiments.py baseline --model hiformer-b --swin original \
#     --swin-pretrain microlite --dataset ebc1
# Checkpoint files: see configs/_base_/pretraining/.
_base_ = [
    '../_base_/models/hiformer.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/nasa_two_phase.py',
    '../_base_/datasets/ebc1.py',
    '../_base_/pretraining/swin_microlite.py',
    '../_base_/pretraining/cnn_micronet.py',
]
log_processor = dict(by_epoch=True)
model = dict(
    backbone=dict(
        depths=[2, 2, 6],  # Swin-T original, stages 0-2
        swin_init_cfg=dict(
            _base_.swin_init_cfg,
            checkpoint='checkpoints/swin_original_microlite.pth',
            _delete_=True),
        cnn=dict(
            init_cfg=dict(
                _base_.cnn_init_cfg,
                checkpoint='checkpoints/cnn_resnet50_micronet.pth',
                _delete_=True))),
    decode_head=dict(num_classes=2),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
