# NASA benchmark EBC1 at 1/4 scale, for CPU budgets (configs/cpu_budget/). The 1024x1024
# micrographs and their masks are resized to 256x256 when loaded (masks: nearest), and training
# crops 128x128: the recipe's 512x512 field of view at 1/4 resolution (1/16 of the pixels).
# Why: the oxide band is 106-334 px thick and its gray level is within a few levels of the
# substrate below, so a small full-resolution crop inside it looks like substrate; only the
# coating above and the interface below tell them apart, and a CPU cannot afford 512x512 crops
# for long enough.
# Test: images resized to 256x256 (before LoadAnnotations, so the masks stay 1024x1024); mmseg's
# postprocess resizes the logits back to the original size, so metrics are on the original masks.
_base_ = './ebc1.py'
scale = (256, 256)
crop_size = (128, 128)
resize = dict(type='Resize', scale=scale, keep_ratio=True)
# ebc_common.py's pipeline: Load, LoadAnnotations, CheckSegLabels, RandomCrop, augmentation, Pack.
train_pipeline = [*_base_.train_pipeline[:3], resize,
                  dict(_base_.train_pipeline[3], crop_size=crop_size), *_base_.train_pipeline[4:]]
test_pipeline = [_base_.test_pipeline[0], resize, *_base_.test_pipeline[1:]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# 256x256 images: one window.
model_test_cfg = dict(mode='whole', _delete_=True)
