"""Install csunet: the package lives in ``projects/csunet`` (OpenMMLab ``projects/`` layout)."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


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
    install_requires=read_requirements('runtime') +
    read_requirements('mminstall'),
    extras_require={
        'tests': read_requirements('tests'),
        'optional': read_requirements('optional'),
    },
    zip_safe=False,
)
