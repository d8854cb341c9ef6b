# Two augmented views of a pool tile for the contrastive / siamese CNN recipes (SimSiam, DenseCL,
# MoCo v2), chosen for micrographs instead of mmpretrain's ImageNet views:
# * crops keep at least half of the tile's area (mmpretrain: 20 %): a smaller crop of a coating
#   cross-section can miss the coating/interface that tells oxide from substrate;
# * brightness / contrast jitter of 0.1 (ImageNet views: 0.4 plus saturation and hue): EBC oxide
#   and substrate differ by 1-7 grey levels, and a strong brightness change would teach the network
#   to ignore exactly that; no saturation / hue / grayscale (the tiles are grey);
# * mild blur (SEM focus and probe size), flips in both directions (micrographs have no "up").
# Leaves use it as train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline)) (bases
# may not both set train_dataloader).
crop_size = 224
view_pipeline = [
    dict(type='RandomResizedCrop', scale=crop_size, crop_ratio_range=(0.5, 1.), backend='pillow'),
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.1, contrast=0.1)]),
    dict(type='GaussianBlur', magnitude_range=(0.1, 1.0), magnitude_std='inf', prob=0.3),
    dict(type='RandomFlip', prob=[0.25, 0.25], direction=['horizontal', 'vertical']),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
