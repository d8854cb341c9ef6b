# NASA benchmark Super 1-4 (gamma' precipitates, 512x512 micrographs), shared settings.
# Per-split files (super1.py .. super4.py) inherit this and only set the split's data_root.
# Classes: 0 matrix, 1 secondary, 2 tertiary (SuperDataset). Test = whole 512x512 images.
# Loaders, pipelines and the evaluator (NASA IoU pooled over all classes): nasa_common.py.
_base_ = './nasa_common.py'
dataset_type = 'SuperDataset'

# The paper's augmentation (NASA's recipe), after the random 512x512 crop: flips both ways and
# 90-degree rotations, then the photometric transforms shared with EBC (nasa_photometric.py).
albu_transforms = [
    dict(type='HorizontalFlip', p=0.5),
    dict(type='VerticalFlip', p=0.5),
    dict(type='RandomRotate90', p=0.5),
    *_base_.photometric_transforms,
]
# albumentations through csunet's AlbuSeg, so image and mask get the same geometric transform.
train_augment = [dict(type='AlbuSeg', transforms=albu_transforms)]
# nasa_common.py's pipeline with the augmentation before PackSegInputs.
train_pipeline = [*_base_.train_pipeline[:-1], *train_augment, _base_.train_pipeline[-1]]

train_dataloader = dict(dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(type=dataset_type))
