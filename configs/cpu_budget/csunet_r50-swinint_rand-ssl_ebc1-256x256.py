# CPU budget: configs/csunet/csunet_r50-swinint_rand-ssl_ebc1.py (CS-UNet r50, Swin-T intermediate,
# Swin-T SSL (SimMIM), CNN random) on EBC1 at 1/4 scale (_base_/datasets/ebc1_256x256.py).
# Hand-written: same bases and model. Its checkpoints come from the SSL budget configs
# configs/pretrain/*_pool-ebc1-128px.py (commands: docs/pretraining.md).
_base_ = [
    '../_base_/csunet_experiment.py',
    '../_base_/datasets/ebc1_256x256.py',
    '../_base_/encoders/resnet50.py',
    '../_base_/swin/intermediate.py',
    '../_base_/pretraining/cnn_none.py',
    '../_base_/pretraining/swin_ssl.py',
]
# The decoder's widths, depths, heads and drop-path rate follow the encoder (CSUNet segmentor).
model = dict(
    backbone=dict(
        swin=dict(
            arch=_base_.swin_variant,
            init_cfg=dict(
                _base_.swin_init_cfg,
                checkpoint='checkpoints/swin_intermediate_ssl.pth',
                _delete_=True)),
        cnn=dict(
            model_name=_base_.cnn_model_name,
            init_cfg=_base_.cnn_init_cfg)),
    decode_head=dict(num_classes=2),
    # whole or slide inference: the dataset fragment's
    test_cfg=_base_.model_test_cfg)
