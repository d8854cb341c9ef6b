"""Super 1-4 (gamma' precipitates in Ni superalloys) of the NASA segmentation benchmark."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .nasa_encoding import SUPER_CLASSES, SUPER_PALETTE


@DATASETS.register_module()
class SuperDataset(BaseSegDataset):
    """Super 1-4 data set converted by ``tools/dataset_converters/nasa_benchmark.py``.

    Index masks (``uint8`` PNG): 0 = matrix, 1 = secondary gamma', 2 = tertiary gamma'. The palette
    mirrors NASA's overlay colours: matrix grey ``(128, 128, 128)`` (the overlay shows the
    micrograph there), secondary pure blue ``(0, 0, 255)``, tertiary pure red ``(255, 0, 0)``.

    ``ann_file`` is a split list (one stem per line, e.g. ``splits/train.txt``); images are
    ``img_dir/<part>/<stem>.png`` and masks ``ann_dir/<part>/<stem>.png``. Each data info carries
    ``num_classes`` so that :class:`~csunet.datasets.transforms.CheckSegLabels` knows the allowed
    label values.
    """
    METAINFO = dict(classes=SUPER_CLASSES, palette=[list(c) for c in SUPER_PALETTE])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    def load_data_list(self) -> list:
        data_list = super().load_data_list()
        num_classes = len(self._metainfo['classes'])
        for info in data_list:
            info['num_classes'] = num_classes
        return data_list
