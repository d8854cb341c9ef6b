# The photometric half of the paper's augmentation (NASA's recipe), the same for both materials:
# random brightness/contrast, gamma, blur or sharpen (albumentations names, for csunet's AlbuSeg).
# super_common.py and ebc_common.py put their material's geometric transforms in front of it.
photometric_transforms = [
    dict(type='RandomBrightnessContrast', brightness_limit=0.2, contrast_limit=0.2, p=0.5),
    dict(type='RandomGamma', gamma_limit=(80, 120), p=0.5),
    dict(type='OneOf', p=0.5, transforms=[
        dict(type='Blur', blur_limit=3, p=1.0),
        dict(type='Sharpen', alpha=(0.2, 0.5), lightness=(0.5, 1.0), p=1.0),
    ]),
]
