# MicroLite-style classification data, as written by tools/dataset_converters/microlite.py
# (OUT/meta/{classes,train,val,test}.txt + OUT/{train,val,test}/<class>/<tile>.png). Class names
# come from OUT/meta/classes.txt (csunet.datasets.MicroLiteDataset), never from the config.
#
# Augmentation (the paper: contrast and brightness, vertical and horizontal flips, photometric
# distortion, noise). mmpretrain 1.2.0 transforms are used where they exist:
#   * flips: mmcv's RandomFlip with a direction list (reachable from mmpretrain's TRANSFORMS);
#   * contrast / brightness = the photometric distortion of a grey micrograph: mmpretrain's
#     ColorJitter (saturation and hue stay 0: the 3 channels are copies of one grey channel, and
#     mmpretrain has no PhotoMetricDistortion - that one lives in mmseg/mmdet);
#   * blur: mmpretrain's GaussianBlur (defocus / SEM probe size);
#   * noise: mmpretrain has no noise transform, so albumentations' GaussNoise through
#     mmpretrain's own `Albu` wrapper (csunet's AlbuSeg is for image+mask segmentation samples).
dataset_type = 'MicroLiteDataset'
data_root = 'data/microlite'
crop_size = 512  # converter tile size; SwinResMLP needs a multiple of 32
train_pipeline = [
    dict(type='LoadImageFromFile'),  # grey PNG -> 3 equal channels
    dict(type='Resize', scale=(crop_size, crop_size)),  # no-op on 512 tiles
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3),
    dict(type='GaussianBlur', magnitude_range=(0.1, 1.5), magnitude_std='inf', prob=0.2),
    dict(type='Albu', transforms=[dict(type='GaussNoise', std_range=(0.01, 0.05), p=0.3)]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(crop_size, crop_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))
# mmpretrain's Accuracy with top-k clipped to the number of classes (top-5 on a subset with < 5
# classes is 1.0 instead of mmpretrain's ValueError); identical to Accuracy for 74 classes.
val_evaluator = dict(type='ClippedAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
