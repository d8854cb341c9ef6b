# SimSiam (Chen & He 2021) of CS-UNet's CNN branch (ResNet-50) on a pool of unlabelled micrographs,
# through mmpretrain:
#
#   python tools/dataset_converters/unlabelled.py my_micrographs/ -o data/pool --exclude TEST...
#   python tools/train.py configs/pretrain/simsiam_resnet50_micrographs.py \
#       --cfg-options train_dataloader.dataset.data_root=data/pool
#   cp work_dirs/<this>/iter_2000.pth checkpoints/cnn_resnet50_ssl.pth  # --cnn-pretrain ssl
#
# mmpretrain's ResNet-50 has timm's resnet50 parameter names under `backbone.`, so the checkpoint
# loads into TimmCNN('resnet50') as it is (configs/_base_/pretraining/cnn_ssl.py sets the prefix).
# For the ResNeXt-101 32x8d encoder: --cfg-options model.backbone.type=ResNeXt
# model.backbone.depth=101 model.backbone.groups=32 model.backbone.width_per_group=8
# (csunet.experiments.SSL_ENCODERS; other encoders' mmpretrain layouts differ from timm's).
# Differences from mmpretrain's SimSiam recipe, and why: views for micrographs
# (_base_/two_view_pipeline.py); BatchNorm instead of SyncBN (runs on one CPU process; with
# tools/dist_train.sh use --cfg-options model.backbone.norm_cfg.type=SyncBN); batch 16 with the
# lr scaled linearly from SimSiam's 0.05 per 256; iteration-based cosine schedule.
_base_ = ['./_base_/ssl_runtime.py', './_base_/unlabelled_pool.py',
          './_base_/two_view_pipeline.py']
train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline))
model = dict(
    type='SimSiam',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=True),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=2048,
              num_layers=3, with_last_bn_affine=False, with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        loss=dict(type='CosineSimilarityLoss'),
        predictor=dict(type='NonLinearNeck', in_channels=2048, hid_channels=512,
                       out_channels=2048, with_avg_pool=False, with_last_bn=False,
                       with_last_bias=True)))
lr = 0.05 * 16 / 256
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, weight_decay=1e-4, momentum=0.9),
    paramwise_cfg=dict(custom_keys={'predictor': dict(fix_lr=True)}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=_base_.max_iters, by_epoch=False,
                        begin=0, end=_base_.max_iters)]
# SimSiam keeps the predictor's lr fixed (mmpretrain's hook); collapse shows as the held-out
# embedding std falling from 1/sqrt(2048) = 0.022 towards 0.
custom_hooks = [
    dict(type='SimSiamHook', priority='HIGH', fix_pred_lr=True, lr=lr, adjust_by_epoch=False),
    dict(type='SelfSupHeldOutHook', interval=100, metrics=['loss', 'embedding_std']),
]
auto_scale_lr = dict(base_batch_size=16)
