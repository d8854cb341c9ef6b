# NASA pretrained-microscopy-models schedule, as followed by the CS-UNet paper:
# Adam lr 2e-4, validation every epoch; when the validation score has not improved for 30
# validations, reload the best weights and continue at lr 1e-5; stop after 30 more validations
# without improvement. `max_epochs` is only a safety cap.
#
# The monitored metric must be the same in the CheckpointHook (`save_best`, which keeps the best
# weights the hook reloads) and in TwoPhaseEarlyStopHook (`monitor`). For NASA's IoU use
#   val_evaluator = dict(type='NASAIoUMetric', classes=None)        # Super: all classes
#   val_evaluator = dict(type='NASAIoUMetric', classes=[1])         # EBC: oxide only
# and set both to 'nasa_iou' in the derived config.
optimizer = dict(type='Adam', lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
# Constant lr: the phase switch sets it; a scheduler would override it.
param_scheduler = []

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,  # the latest, for --resume; the best is kept separately
        save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))

custom_hooks = [
    dict(
        type='TwoPhaseEarlyStopHook',
        monitor='mIoU',
        patience=30,
        second_lr=1e-5,
        rule='greater'),
]
