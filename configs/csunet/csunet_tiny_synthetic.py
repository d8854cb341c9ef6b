# Quickstart: a small CS-UNet (Swin-T "intermediate" + resnet18) trained for a few minutes on CPU
# on synthetic superalloy micrographs (bash tools/quickstart.sh generates them).
_base_ = [
    '../_base_/models/csunet.py',
    '../_base_/datasets/synthetic_super.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        # The decoder follows (CSUNet segmentor): depths (2, 2, 2), drop_path_rate 0.1.
        swin=dict(arch='intermediate', drop_path_rate=0.1),
        cnn=dict(model_name='resnet18')),
    decode_head=dict(num_classes=3))

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3,
                                                         weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=20, end=240),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=240, val_interval=80)
# mmseg's convention for iteration-based loops (the dataset base is epoch-based, like NASA's).
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=80, max_keep_ckpts=1,
                    save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
