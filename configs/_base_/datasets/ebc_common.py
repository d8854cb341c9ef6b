# NASA benchmark EBC 1-3 (oxide layer of environmental barrier coatings, 1024x1024 micrographs),
# shared settings. Per-split files (ebc1.py, ebc2.py, ebc3.py = one-shot, ebc3_heldout.py) inherit
# this and only set the split's data_root.
# Data: `python tools/dataset_converters/nasa_benchmark.py SRC -o data/nasa_benchmark`.
# Classes: 0 background, 1 oxide; raw crack (2) -> oxide by default (EBCDataset crack_as=
# 'oxide'|'background'|'ignore'). Test = whole 1024x1024 images (slide inference is set in the
# model config's test_cfg).
_base_ = './nasa_photometric.py'
dataset_type = 'EBCDataset'
crack_as = 'oxide'
data_root = 'data/nasa_benchmark'
crop_size = (512, 512)

# The paper's augmentation (NASA's recipe), after the random 512x512 crop: horizontal flips (the
# coating layers are horizontal), then the photometric transforms shared with Super
# (nasa_photometric.py).
albu_transforms = [
    dict(type='HorizontalFlip', p=0.5),
    *_base_.photometric_transforms,
]
# albumentations through csunet's AlbuSeg, so image and mask get the same geometric transform.
train_augment = [dict(type='AlbuSeg', transforms=albu_transforms)]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    *train_augment,
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='PackSegInputs'),
]


def _split(part):
    return dict(
        ann_file=f'splits/{part}.txt',
        data_prefix=dict(img_path=f'img_dir/{part}', seg_map_path=f'ann_dir/{part}'))


train_dataloader = dict(
    batch_size=6,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        crack_as=crack_as,
        data_root=data_root,
        pipeline=train_pipeline,
        **_split('train')))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        crack_as=crack_as,
        data_root=data_root,
        pipeline=test_pipeline,
        **_split('val')))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        crack_as=crack_as,
        data_root=data_root,
        pipeline=test_pipeline,
        **_split('test')))
# mmseg's mIoU / per-class IoU, and the IoU of the paper's tables (NASA's definition: oxide only;
# csunet.evaluation.NASAIoUMetric) so results can be set beside the published ones.
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='NASAIoUMetric', classes=[1]),
]
test_evaluator = val_evaluator
del _split
