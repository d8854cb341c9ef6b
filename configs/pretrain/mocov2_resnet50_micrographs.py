# MoCo v2 (Chen et al. 2020) of CS-UNet's CNN branch (ResNet-50) on a pool of unlabelled
# micrographs, through mmpretrain; commands and differences as in densecl_resnet50_micrographs.py
# (queue of 4096 instead of 65536, micrograph views, batch 16, iteration-based cosine schedule;
# held-out embedding std only).
_base_ = ['./_base_/ssl_runtime.py', './_base_/unlabelled_pool.py',
          './_base_/two_view_pipeline.py']
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
model = dict(
    type='MoCo',
    queue_len=4096,
    feat_dim=128,
    momentum=0.001,
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=2048, hid_channels=2048, out_channels=128,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
lr = 0.03 * 16 / 256
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=lr, weight_decay=1e-4, momentum=0.9))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=_base_.max_iters, by_epoch=False,
                        begin=0, end=_base_.max_iters)]
custom_hooks = [dict(type='SelfSupHeldOutHook', interval=100, metrics=['embedding_std'])]
auto_scale_lr = dict(base_batch_size=16)
