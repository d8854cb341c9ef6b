# SimMIM (Xie et al. 2022) masked image modelling of CS-UNet's Swin branch (Swin-T + ResMLP,
# "original" depths 2, 2, 6, 2) on a pool of unlabelled micrographs, through mmpretrain's SimMIM:
#
#   python tools/dataset_converters/unlabelled.py my_micrographs/ -o data/pool --exclude TEST...
#   python tools/train.py configs/pretrain/simmim_swin-original_micrographs.py \
#       --cfg-options train_dataloader.dataset.data_root=data/pool
#   python tools/model_converters/mmpretrain2csunet.py work_dirs/<this>/iter_2000.pth \
#       -o checkpoints/swin_original_ssl.pth      # then a leaf with --swin-pretrain ssl
#
# Differences from mmpretrain's SimMIM Swin recipe, and why:
# * crops of 256 px from the pool's 512-px tiles at their native scale (no RandomResizedCrop:
#   a zoomed crop changes the apparent size of particles and layers, which is what a micrograph's
#   structure is about) with flips; no colour jitter (SimMIM uses none);
# * mask patches of 32 px (SimMIM's), 60 % masked; window 8 (CS-UNet's);
# * plain OptimWrapper, iteration-based schedule (see _base_/ssl_runtime.py);
# * lr 1e-4 for batch 16: SimMIM's linear rule (2e-4 per 512 images) gives 6e-6, which barely
#   moves AdamW in a schedule of hundreds of iterations; 1e-4 is half the fine-tuning recipe's.
_base_ = ['./_base_/ssl_runtime.py', './_base_/unlabelled_pool.py']
crop_size = 256
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size, pad_if_needed=True, pad_val=0,
         padding_mode='reflect'),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='SimMIMMaskGenerator', input_size=crop_size, mask_patch_size=32,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(
    type='SimMIM',
    backbone=dict(type='SimMIMSwinResMLP', arch='original', out_indices=(3, )),
    neck=dict(type='SimMIMLinearDecoder', in_channels=96 * 2**3, encoder_stride=32),
    head=dict(type='SimMIMHead', patch_size=4,
              loss=dict(type='PixelReconstructionLoss', criterion='L1', channel=3)))
lr = 1e-4
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'relative_position_bias_table': dict(decay_mult=0.0),
                     'mask_token': dict(decay_mult=0.0)}))
warmup_iters = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=lr / 20, by_epoch=False, begin=warmup_iters,
         end=_base_.max_iters, T_max=_base_.max_iters - warmup_iters),
]
# Held-out masked-pixel loss every 100 iterations (overfitting of a small pool shows here).
custom_hooks = [dict(type='SelfSupHeldOutHook', interval=100, metrics=['loss'])]
auto_scale_lr = dict(base_batch_size=16)
