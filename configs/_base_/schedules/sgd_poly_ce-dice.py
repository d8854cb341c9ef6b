# The training recipe of the TransDeepLab and HiFormer papers (both from the Swin-Unet /
# TransUNet code base), as an alternative to NASA's two-phase schedule (nasa_two_phase.py), which
# our comparison tables use for every model. Use it in place of that fragment in a leaf's
# `_base_` and set the loss from `ce_dice_loss_decode`:
#   model = dict(decode_head=dict(loss_decode=_base_.ce_dice_loss_decode))
#
# * SGD, momentum 0.9, weight decay 1e-4, lr 0.01 (train.py's default; the TransDeepLab README
#   trains Synapse with 0.05 at batch 24; the official code scales lr by batch / 24);
# * poly decay per iteration, lr = base_lr * (1 - iter / max_iters) ** 0.9, to 0 at the end;
# * 150 epochs (their default; 200 in TransDeepLab's README command), no validation in theirs
#   (we validate every 10 epochs and keep the best and the last checkpoint);
# * loss 0.4 * cross-entropy + 0.6 * Dice on softmax outputs (their `DiceLoss`: squared
#   denominators). mmseg's DiceLoss pools all classes of an image into one Dice, theirs averages
#   the per-class Dice over the batch, so this is their loss up to that pooling;
# * 224x224 training images: the dataset fragments crop 512x512; for 224, override the
#   RandomCrop (train_pipeline index 3), e.g.
#   --cfg-options "train_dataloader.dataset.pipeline.3.crop_size=(224,224)".
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
max_epochs = 150
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0., by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True),
]
ce_dice_loss_decode = [
    dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4, loss_name='loss_ce'),
    dict(type='DiceLoss', use_sigmoid=False, naive_dice=False, eps=1e-5, loss_weight=0.6,
         loss_name='loss_dice'),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=1, save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
