# mmpretrain ImageClassifier around CS-UNet's SwinResMLP (the same class as CS-UNet's Swin branch,
# registered in mmpretrain's MODELS by `import csunet`; see
# projects/csunet/models/backbones/mmpretrain_registry.py). Keys are `backbone.<Microsoft layout>`
# and `head.fc.*`, which tools/model_converters/mmpretrain2csunet.py turns into a CS-UNet init.
num_classes = 74  # MicroLite; must equal the number of lines of <data_root>/meta/classes.txt
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='SwinResMLP',
        embed_dims=96,
        depths='original',  # (2, 2, 6, 2); leaf configs of the intermediate variant override
        num_heads=(3, 6, 12, 24),
        window_size=8,  # CS-UNet's window (512 / 32 = 16 windows of 8 at stride 32 ... 4)
        drop_path_rate=0.2,
        out_indices=(3, )),  # tuple of one NCHW map, (B, 768, H/32, W/32); no init_cfg: random
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=768,  # 8 * embed_dims
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
# Same normalisation as CS-UNet's SegDataPreProcessor (configs/_base_/models/csunet.py), so the
# pretrained features see the same input statistics after transfer.
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
