# Synthetic superalloy-like micrographs (csunet.datasets.synthetic), written by
#   python tools/dataset_converters/synthetic_micrographs.py data/synthetic --material super
# in the NASA-converter layout, so the same SuperDataset reads them. Used by the quickstart job
# and fast end-to-end tests.
_base_ = './super_common.py'
data_root = 'data/synthetic/synthetic_super'
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
