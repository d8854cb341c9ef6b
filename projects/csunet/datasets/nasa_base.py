"""Base class of the data sets in the NASA-converter layout (Super 1-4, EBC 1-3, synthetic)."""
from mmseg.datasets import BaseSegDataset


class NASASegDataset(BaseSegDataset):
    """A split written by ``tools/dataset_converters/nasa_benchmark.py`` (or
    :func:`csunet.datasets.synthetic.generate_dataset`)::

        <data_root>/img_dir/<part>/<stem>.png   image
        <data_root>/ann_dir/<part>/<stem>.png   uint8 index mask
        <data_root>/splits/<part>.txt           stems, one per line (the ``ann_file``)

    Subclasses set ``METAINFO`` (classes, palette). Each data info carries ``num_classes`` so that
    :class:`~csunet.datasets.transforms.CheckSegLabels` knows the allowed label values.

    Args:
        img_suffix, seg_map_suffix, reduce_zero_label: as in
            :class:`mmseg.datasets.BaseSegDataset`, with this layout's defaults.
        **kwargs: see :class:`mmseg.datasets.BaseSegDataset`.
    """

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
