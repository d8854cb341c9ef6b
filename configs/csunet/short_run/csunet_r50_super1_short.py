# Short CPU acceptance run: CS-UNet r50 + Swin-T on super1, WITHOUT pretrained weights (the
# checkpoints of csunet_r50_imagenet_super1.py are not available here). Validation and test:
# mIoU + NASA IoU (set by the dataset base).
_base_ = '../csunet_r50_imagenet_super1.py'
model = dict(backbone=dict(swin=dict(init_cfg=None), cnn=dict(init_cfg=None)))
# Short run (tools/misc/short_real_run.sh): NASA's epoch-based two-phase schedule replaced by
# max_iters iterations (CLI: --cfg-options train_cfg.max_iters=N train_cfg.val_interval=N),
# batch 2, one validation and one checkpoint at the end.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40, _delete_=True)
train_dataloader = dict(
    batch_size=2, num_workers=1, sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(num_workers=1)
test_dataloader = dict(num_workers=1)
custom_hooks = []  # TwoPhaseEarlyStopHook needs epoch-wise validation
default_hooks = dict(
    logger=dict(interval=5, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=100000, save_last=True, max_keep_ckpts=1,
                    save_best=None))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
