# CPU budget: configs/baselines/hiformer-b_swint_ebc1.py (HiFormer-B: ResNet-50 + Swin-T original
# stages 0-2 + Double-Level Fusion, random init) on EBC1 at 1/4 scale
# (_base_/datasets/ebc1_256x256.py). Hand-written: same bases and model.
_base_ = [
    '../_base_/models/hiformer.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/nasa_two_phase.py',
    '../_base_/datasets/ebc1_256x256.py',
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
    decode_head=dict(num_classes=2),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
