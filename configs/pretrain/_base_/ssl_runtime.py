# mmpretrain runtime for self-supervised pretraining on a pool of unlabelled micrograph tiles
# (tools/dataset_converters/unlabelled.py). CPU-friendly: a plain OptimWrapper (mmpretrain's SimMIM
# configs use the CUDA-only AmpOptimWrapper; pass --amp to tools/train.py on a GPU), an
# iteration-based loop (a pool of a few dozen tiles makes epochs of a handful of steps), no
# validation loop (self-supervised models have no metric); the held-out tiles of the pool are
# watched by CSUNet's SelfSupHeldOutHook instead (the leaf sets what it logs).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['csunet'], allow_failed_imports=False)
max_iters = 2000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False))
log_processor = dict(by_epoch=False, window_size=10)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
