"""Super 1-4 (gamma' precipitates in Ni superalloys) of the NASA segmentation benchmark."""
from mmseg.registry import DATASETS

from .nasa_base import NASASegDataset
from .nasa_encoding import SUPER_CLASSES, SUPER_PALETTE


@DATASETS.register_module()
class SuperDataset(NASASegDataset):
    """Super 1-4 data set converted by ``tools/dataset_converters/nasa_benchmark.py``.

    Index masks (``uint8`` PNG): 0 = matrix, 1 = secondary gamma', 2 = tertiary gamma'. The palette
    mirrors NASA's overlay colours: matrix grey ``(128, 128, 128)`` (the overlay shows the
    micrograph there), secondary pure blue ``(0, 0, 255)``, tertiary pure red ``(255, 0, 0)``.

    Layout, arguments and the ``num_classes`` of each data info: :class:`NASASegDataset`.
    """
    METAINFO = dict(classes=SUPER_CLASSES, palette=[list(c) for c in SUPER_PALETTE])
