# CS-UNet on ebc1: CNN resnet50 (ssl) + Swin-T intermediate (none).
# Written by tools/misc/experiments.py write --encoder resnet50 \
#     --cnn-pretrain ssl --swin intermediate --swin-pretrain none \
#     --dataset ebc1
# Checkpoint files: see configs/_base_/pretraining/.
_base_ = [
    '../_base_/csunet_experiment.py',
    '../_base_/datasets/ebc1.py',
    '../_base_/encoders/resnet50.py',
    '../_base_/swin/intermediate.py',
    '../_base_/pretraining/cnn_ssl.py',
    '../_base_/pretraining/swin_none.py',
]
# The decoder's widths, depths, heads and drop-path rate follow the encoder (CSUNet segmentor).
model = dict(
    backbone=dict(
        swin=dict(
            arch=_base_.swin_variant,
            init_cfg=_base_.swin_init_cfg),
        cnn=dict(
            model_name=_base_.cnn_converted_model_name,
            init_cfg=dict(
                _base_.cnn_init_cfg,
                checkpoint='checkpoints/cnn_resnet50_ssl.pth',
                _delete_=True))),
    decode_head=dict(num_classes=2),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
