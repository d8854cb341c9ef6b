# CPU budget of the README's EBC-1 SSL rows: SimSiam of the CNN branch (ResNet-50) on the EBC pool
# at the 1/4 scale of configs/cpu_budget/*_ebc1-256x256.py: the pool's 512-px tiles resized to 128
# px, then the micrograph views of configs/pretrain/_base_/two_view_pipeline.py at 128 px; batch
# 16, 300 iterations. The pool: see simmim_swin-intermediate_pool-ebc1-128px.py.
_base_ = ['./simsiam_resnet50_micrographs.py']
crop_size = 128
view_pipeline = [dict(_base_.view_pipeline[0], scale=crop_size), *_base_.view_pipeline[1:]]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(crop_size, crop_size)),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(num_workers=1, dataset=dict(data_root='data/pool_ebc1',
                                                    pipeline=train_pipeline))
max_iters = 300
train_cfg = dict(max_iters=max_iters)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False, begin=0,
                        end=max_iters)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [
    dict(type='SimSiamHook', priority='HIGH', fix_pred_lr=True, lr=_base_.lr,
         adjust_by_epoch=False),
    dict(type='SelfSupHeldOutHook', interval=25, metrics=['loss', 'embedding_std']),
]
