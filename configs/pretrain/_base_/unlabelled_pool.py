# A pool written by tools/dataset_converters/unlabelled.py: OUT/images/*.png tiles (8-bit grey,
# read as 3 equal channels), OUT/meta/train.txt (trained on) and OUT/meta/val.txt (held-out whole
# images, read by SelfSupHeldOutHook from the same data_root). Set `data_root` to your OUT (or
# --cfg-options train_dataloader.dataset.data_root=...). Leaves set the pipelines.
data_root = 'data/pool'
# Same normalisation as CS-UNet's SegDataPreProcessor, so the pretrained weights see the same
# input statistics after transfer.
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
pool_dataset = dict(type='CustomDataset', data_root=data_root, ann_file='meta/train.txt',
                    data_prefix='', with_label=False)
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # SimSiam's BatchNorm1d heads fail on a batch of one
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=pool_dataset)
