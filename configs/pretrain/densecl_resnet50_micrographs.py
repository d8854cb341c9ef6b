# DenseCL (Wang et al. 2021, dense contrastive learning: a global and a per-location InfoNCE,
# suited to segmentation) of CS-UNet's CNN branch (ResNet-50) on a pool of unlabelled micrographs,
# through mmpretrain; commands as in simsiam_resnet50_micrographs.py (the checkpoint's `backbone.`
# loads into TimmCNN('resnet50'); the momentum encoder is left out).
# Differences from mmpretrain's DenseCL recipe: micrograph views (_base_/two_view_pipeline.py);
# a queue of 4096 negatives instead of 65536 (a pool of hundreds of tiles would otherwise hold the
# same tiles many times over, as stale negatives); batch 16, lr scaled from 0.03 per 256;
# iteration-based cosine schedule. Only the embedding std is logged on held-out tiles: DenseCL's
# loss enqueues keys and moves the momentum encoder, so it is not evaluated outside training.
_base_ = ['./_base_/ssl_runtime.py', './_base_/unlabelled_pool.py',
          './_base_/two_view_pipeline.py']
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
model = dict(
    type='DenseCL',
    queue_len=4096,
    feat_dim=128,
    momentum=0.001,
    loss_lambda=0.5,
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='DenseCLNeck', in_channels=2048, hid_channels=2048, out_channels=128,
              num_grid=None),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
find_unused_parameters = True
lr = 0.03 * 16 / 256
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=lr, weight_decay=1e-4, momentum=0.9))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=_base_.max_iters, by_epoch=False,
                        begin=0, end=_base_.max_iters)]
custom_hooks = [dict(type='SelfSupHeldOutHook', interval=100, metrics=['embedding_std'])]
auto_scale_lr = dict(base_batch_size=16)
