"""Install csunet: the package lives in ``projects/csunet`` (OpenMMLab ``projects/`` layout)."""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


#: What the code supports, for `pip install -e .` into an environment that already has its own
#: torch / mmseg: ranges, not pins. The exact versions CI and tools/setup_env.sh install (and
#: why) are in requirements/*.txt. mmcv is not listed, as in mmsegmentation: bring full mmcv
#: 2.x, or mmcv-lite (the `lite` extra) which csunet.compat makes mmseg import on.
INSTALL_REQUIRES = [
    # torch.utils.checkpoint's selective-checkpoint policies (CheckpointPolicy) appeared in 2.4.
    'torch>=2.4',
    'torchvision',
    # features_only / FeatureDictNet and timm.layers as used by TimmCNN and the Swin layers.
    'timm>=1.0,<2',
    'mmengine>=0.10.4,<1',
    'mmsegmentation>=1.2.2,<1.3',
    # Required: the Swin branch's pretraining (configs/pretrain/) and SwinResMLP's registration
    # in mmpretrain's registry.
    'mmpretrain>=1.2,<1.3',
    'albumentations>=1.4,<3',
    'numpy>=1.24,<3',
    'pillow',
    'tifffile',
    'scikit-image>=0.22',
    'ftfy',
    'regex',
]


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'projects', 'csunet', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='csunet',
    version=get_version(),
    description='CS-UNet (CNN + Swin-T U-Net) for microstructure segmentation, '
    'as an OpenMMLab (mmsegmentation / mmpretrain) extension',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    package_dir={'csunet': 'projects/csunet'},
    packages=['csunet'] +
    [f'csunet.{p}' for p in find_packages('projects/csunet')],
    install_requires=INSTALL_REQUIRES,
    extras_require={
        'lite': ['mmcv-lite>=2.0.0,<2.2.0'],
        'tests': read_requirements('tests'),
        'optional': read_requirements('optional'),
        'lint': read_requirements('lint'),
    },
    zip_safe=False,
)
