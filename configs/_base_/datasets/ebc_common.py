# NASA benchmark EBC 1-3 (oxide layer of environmental barrier coatings, 1024x1024 micrographs),
# shared settings. Per-split files (ebc1.py, ebc2.py, ebc3.py = one-shot, ebc3_heldout.py) inherit
# this and only set the split's data_root.
# Classes: 0 background, 1 oxide; raw crack (2) -> oxide by default (EBCDataset crack_as=
# 'oxide'|'background'|'ignore'). Test = whole 1024x1024 images, inferred in 512x512 windows
# (model_test_cfg below). Loaders and pipelines: nasa_common.py.
_base_ = './nasa_common.py'
dataset_type = 'EBCDataset'
crack_as = 'oxide'
# EBC micrographs are 1024x1024: slide 512 crops with stride 256 (leaf configs put this in the
# model's test_cfg).
model_test_cfg = dict(mode='slide', crop_size=(512, 512), stride=(256, 256))

# The paper's augmentation (NASA's recipe), after the random 512x512 crop: horizontal flips (the
# coating layers are horizontal), then the photometric transforms shared with Super
# (nasa_photometric.py).
albu_transforms = [
    dict(type='HorizontalFlip', p=0.5),
    *_base_.photometric_transforms,
]
# albumentations through csunet's AlbuSeg, so image and mask get the same geometric transform.
train_augment = [dict(type='AlbuSeg', transforms=albu_transforms)]
# nasa_common.py's pipeline with the augmentation before PackSegInputs.
train_pipeline = [*_base_.train_pipeline[:-1], *train_augment, _base_.train_pipeline[-1]]

train_dataloader = dict(dataset=dict(type=dataset_type, crack_as=crack_as, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(type=dataset_type, crack_as=crack_as))
# The IoU of the paper's tables for EBC is NASA's oxide-only IoU.
val_evaluator = [_base_.val_evaluator[0], dict(type='NASAIoUMetric', classes=[1])]
test_evaluator = val_evaluator
