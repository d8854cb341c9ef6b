# CPU budget of the README's EBC-1 SSL rows: SimMIM of the Swin branch (intermediate) on the EBC
# pool at the 1/4 scale of configs/cpu_budget/*_ebc1-256x256.py: the pool's 512-px tiles are
# resized to 128 px (the fine-tuning's 128-px crops of 256-px images, same field of view and pixel
# size), mask patches of 32 px (4 x 4 cells, 60 % hidden), batch 16, 300 iterations.
# The pool (EBC-1/2/3 train + val images, every EBC test image excluded by pixel content):
#   D=../shared/data/nasa_benchmark/benchmark_segmentation_data
#   python tools/dataset_converters/unlabelled.py $D/EBC{1,2,3}/train $D/EBC{1,2,3}/val \
#       -o data/pool_ebc1 --exclude $D/EBC1/test $D/EBC2/test $D/EBC3/test
_base_ = ['./simmim_swin-intermediate_micrographs.py']
crop_size = 128
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(crop_size, crop_size)),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='SimMIMMaskGenerator', input_size=crop_size, mask_patch_size=32,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(num_workers=1, dataset=dict(data_root='data/pool_ebc1',
                                                    pipeline=train_pipeline))
max_iters = 300
train_cfg = dict(max_iters=max_iters)
warmup_iters = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=_base_.lr / 20, by_epoch=False, begin=warmup_iters,
         end=max_iters, T_max=max_iters - warmup_iters),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [dict(type='SelfSupHeldOutHook', interval=25, metrics=['loss'])]
