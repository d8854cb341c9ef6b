# Settings shared by every data set in the NASA-converter layout (super_common.py, ebc_common.py):
#   <data_root>/img_dir/<part>/<stem>.png, ann_dir/<part>/<stem>.png, splits/<part>.txt
# Data: `python tools/dataset_converters/nasa_benchmark.py SRC -o data/nasa_benchmark`.
# The material fragments add the dataset type, their augmentation and their evaluator; mmengine
# builds each base's values before a child is read, so a child overrides values (dict keys are
# merged, lists replaced) and cannot re-parameterise the base (see configs/README.md).
_base_ = './nasa_photometric.py'
data_root = 'data/nasa_benchmark'
crop_size = (512, 512)
# How a model infers the images of this data set: mmseg's model `test_cfg`, which leaf configs
# set from this variable (`test_cfg=_base_.model_test_cfg`). Whole images; ebc_common.py slides.
model_test_cfg = dict(mode='whole')

# Training: the material's augmentation (`train_augment`) goes between RandomCrop and
# PackSegInputs (super_common.py / ebc_common.py rebuild the list around it).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='PackSegInputs'),
]


def _loader(part, pipeline, batch_size=1, num_workers=1, shuffle=False):
    return dict(
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(
            data_root=data_root,
            pipeline=pipeline,
            ann_file=f'splits/{part}.txt',
            data_prefix=dict(img_path=f'img_dir/{part}', seg_map_path=f'ann_dir/{part}')))


train_dataloader = _loader('train', train_pipeline, batch_size=6, num_workers=2, shuffle=True)
val_dataloader = _loader('val', test_pipeline)
test_dataloader = _loader('test', test_pipeline)
# mmseg's mIoU / per-class IoU, and the IoU of the paper's tables (csunet.evaluation.NASAIoUMetric;
# NASA's definition for Super: pooled over all classes, matrix included; ebc_common.py sets EBC's)
# so results can be set beside the published ones.
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='NASAIoUMetric', classes=None),
]
test_evaluator = val_evaluator
del _loader
