"""MicroLite-style micrograph classification (Swin branch pretraining), for mmpretrain.

MicroLite (Stuckner et al. 2022) has 74 material classes; here the class names always come from
the data, never from this file:

* ``ann_file`` + ``classes.txt`` (what ``tools/dataset_converters/microlite.py`` writes)::

      OUT/meta/classes.txt            one class name per line; line i is label i
      OUT/meta/{train,val,test}.txt   '<path relative to data_root> <label>' per line
      OUT/{train,val,test}/<class>/<tile>.png

* or a folder per class (``OUT/<split>/<class>/*.png``), no annotation file. When a
  ``classes.txt`` exists (``data_root/meta/classes.txt`` or ``data_root/classes.txt``) it fixes the
  label of each folder, so a split that lacks some class keeps the same label indices as the
  others; without one, the sorted folder names are the classes (mmpretrain's
  :class:`~mmpretrain.datasets.CustomDataset` behaviour).

``split='train'`` picks ``meta/train.txt`` when it exists, else the folder ``train/``.

Registered in mmpretrain's ``DATASETS`` (:class:`MicroLiteDataset`; mmpretrain is a required
dependency). The pretraining metric, ``ClippedAccuracy``, is in :mod:`csunet.evaluation`.
"""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS

__all__ = ['MicroLiteDataset', 'find_classes_file']

CLASSES_FILES = ('meta/classes.txt', 'classes.txt')
SPLITS = ('train', 'val', 'test')
IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.pgm', '.ppm')


def find_classes_file(data_root: str) -> Optional[str]:
    """``data_root/meta/classes.txt`` or ``data_root/classes.txt``, whichever exists first."""
    for rel in CLASSES_FILES:
        path = osp.join(data_root, rel)
        if osp.isfile(path):
            return path
    return None


def read_classes(path: str) -> List[str]:
    """Class names from a ``classes.txt`` (blank lines ignored; duplicates are an error)."""
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise ValueError(f'{path}: no class names')
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError(f'{path}: duplicate class names {dups}')
    return names


@DATASETS.register_module()
class MicroLiteDataset(CustomDataset):
    """MicroLite-style classification data set; see the module docstring for layouts.

    Args:
        data_root: Root of the converted data set.
        split: ``'train'``, ``'val'`` or ``'test'``: uses ``meta/<split>.txt`` if present,
            else the folder ``<split>/``. Ignored when ``ann_file`` or ``data_prefix`` is
            given.
        ann_file: ``'<path> <label>'`` lines (paths relative to ``data_root`` +
            ``data_prefix``).
        data_prefix: Image folder (relative to ``data_root``).
        classes: Class names, or a ``classes.txt`` path; default: found under
            ``data_root`` (:func:`find_classes_file`), else the folder names.
        **kwargs: :class:`~mmpretrain.datasets.CustomDataset` arguments (``pipeline``,
            ``metainfo``, ``lazy_init``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 split: Optional[str] = None,
                 ann_file: str = '',
                 data_prefix: Union[str, dict] = '',
                 classes: Union[str, Sequence[str], None] = None,
                 metainfo: Optional[dict] = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 **kwargs):
        if split is not None and split not in SPLITS:
            raise ValueError(f'split={split!r}: use one of {SPLITS}')
        if split is not None and not ann_file and not data_prefix:
            if osp.isfile(osp.join(data_root, 'meta', f'{split}.txt')):
                ann_file = f'meta/{split}.txt'
            else:
                data_prefix = split
        self.split = split
        if classes is None and not (metainfo and 'classes' in metainfo):
            classes = find_classes_file(data_root)
        if isinstance(classes, str):
            classes = read_classes(classes)
        if ann_file and classes is None:
            raise ValueError(f'MicroLiteDataset({data_root!r}): an annotation file has '
                             f'numeric labels only; give `classes` or put a classes.txt '
                             f'at {" or ".join(CLASSES_FILES)}')
        super().__init__(data_root=data_root, ann_file=ann_file, data_prefix=data_prefix,
                         classes=classes, metainfo=metainfo, extensions=extensions,
                         **kwargs)

    def _find_samples(self):
        if self.CLASSES is None or not self.with_label:
            return super()._find_samples()
        # Labels from the class list, not from which folders this split happens to have.
        root = self.img_prefix
        if not osp.isdir(root):
            raise FileNotFoundError(f'MicroLiteDataset: no folder {root}')
        index = {name: i for i, name in enumerate(self.CLASSES)}
        unknown = sorted(d for d in _subdirs(root) if d not in index)
        if unknown:
            raise ValueError(f'{root}: folders {unknown} are not in the class list '
                             f'({len(index)} classes)')
        samples = []
        for name, label in index.items():
            folder = osp.join(root, name)
            if not osp.isdir(folder):
                continue
            for rel in _walk_files(folder):
                if self.is_valid_file(rel):
                    samples.append((osp.join(name, rel), label))
        if not samples:
            raise RuntimeError(f'MicroLiteDataset: found 0 images under {root}')
        self.folder_to_idx = index
        return samples

    def load_data_list(self):
        data_list = super().load_data_list()
        if self.with_label and self.CLASSES is not None:
            n = len(self.CLASSES)
            bad = [d['img_path'] for d in data_list if not 0 <= d['gt_label'] < n]
            if bad:
                raise ValueError(f'MicroLiteDataset: {len(bad)} label(s) outside '
                                 f'0..{n - 1}, e.g. {bad[:3]}')
        return data_list


def _subdirs(root: str) -> List[str]:
    import os
    return sorted(e.name for e in os.scandir(root) if e.is_dir())


def _walk_files(folder: str) -> List[str]:
    """Files under ``folder`` (recursive), as sorted paths relative to it."""
    import os
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for fn in filenames:
            out.append(osp.relpath(osp.join(dirpath, fn), folder))
    return sorted(out)
