"""EBC 1-3 (environmental barrier coating oxidation) of the NASA segmentation benchmark."""
from typing import Dict, Optional, Sequence

from mmseg.registry import DATASETS

from .nasa_base import NASASegDataset
from .nasa_encoding import EBC_RAW_VALUES

#: ``crack_as`` choices -> the label raw crack pixels (value 2) get before the class subset.
CRACK_TARGETS = {'oxide': 1, 'background': 0, 'ignore': 255}


@DATASETS.register_module()
class EBCDataset(NASASegDataset):
    """EBC 1-3 data set converted by ``tools/dataset_converters/nasa_benchmark.py``.

    The converted masks keep NASA's raw values 0 = background/substrate, 1 = oxide, 2 = crack.
    Training is binary (NASA's recipe): classes ``('background', 'oxide')`` with palette
    background black ``(0, 0, 0)`` and oxide orange ``(255, 128, 0)``.

    Args:
        crack_as (str): what raw crack pixels become: ``'oxide'`` (default, NASA's binary recipe:
            cracks are part of the oxide layer), ``'background'``, or ``'ignore'`` (the ignore
            index, 255). The mapping is a mmseg ``label_map`` ({raw value: label}) stored in each
            data info and applied by ``LoadAnnotations``; it is composed with the usual
            class-subset mapping when ``metainfo=dict(classes=...)`` selects a subset.
        **kwargs: see :class:`NASASegDataset` (layout, suffixes) and
            :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(classes=('background', 'oxide'), palette=[[0, 0, 0], [255, 128, 0]])

    def __init__(self, crack_as: str = 'oxide', **kwargs) -> None:
        if crack_as not in CRACK_TARGETS:
            raise ValueError(f'crack_as must be one of {sorted(CRACK_TARGETS)}, got {crack_as!r}')
        self.crack_as = crack_as
        self._class_label_map: Optional[Dict[int, int]] = None
        super().__init__(**kwargs)

    def get_label_map(self, new_classes: Optional[Sequence] = None) -> Dict[int, int]:
        """Raw mask value -> label: crack mapping composed with the class-subset mapping."""
        class_map = super().get_label_map(new_classes)  # None or {old class id: new id}
        self._class_label_map = class_map

        def subset(label: int) -> int:
            if label == 255 or class_map is None:
                return label
            return class_map[label]

        crack = CRACK_TARGETS[self.crack_as]
        raw_map = {0: subset(0), 1: subset(1), 2: subset(crack)}
        assert set(raw_map) == set(EBC_RAW_VALUES)
        return raw_map

    def _update_palette(self) -> list:
        # mmseg picks the palette subset from ``label_map``; give it the class-subset map only
        # (the raw crack value has no palette entry of its own).
        raw_map = self.label_map
        self.label_map = self._class_label_map
        try:
            return super()._update_palette()
        finally:
            self.label_map = raw_map
