"""NASASegDataset: the one base of the data sets in the NASA-converter layout."""
import cv2
import numpy as np
from mmseg.datasets import BaseSegDataset

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.datasets import EBCDataset, NASASegDataset, SuperDataset


class FourPhases(NASASegDataset):
    METAINFO = dict(classes=('a', 'b', 'c', 'd'), palette=[[0, 0, 0]] * 4)


def _split(root, stems, part='val'):
    for sub in ('img_dir', 'ann_dir'):
        (root / sub / part).mkdir(parents=True)
    for i, stem in enumerate(stems):
        cv2.imwrite(str(root / 'img_dir' / part / f'{stem}.png'), np.full((4, 4), i, np.uint8))
        cv2.imwrite(str(root / 'ann_dir' / part / f'{stem}.png'), np.full((4, 4), i, np.uint8))
    (root / 'splits').mkdir()
    (root / 'splits' / f'{part}.txt').write_text(''.join(s + '\n' for s in stems))
    return dict(data_root=str(root), ann_file=f'splits/{part}.txt',
                data_prefix=dict(img_path=f'img_dir/{part}', seg_map_path=f'ann_dir/{part}'))


def test_super_and_ebc_share_the_base():
    assert issubclass(SuperDataset, NASASegDataset) and issubclass(EBCDataset, NASASegDataset)
    assert issubclass(NASASegDataset, BaseSegDataset)
    # the one load_data_list: neither subclass defines its own
    assert 'load_data_list' not in vars(SuperDataset) and 'load_data_list' not in vars(EBCDataset)


def test_layout_defaults_and_num_classes_per_info(tmp_path):
    ds = FourPhases(**_split(tmp_path, ['x', 'y 2']), pipeline=[])
    assert ds.img_suffix == ds.seg_map_suffix == '.png' and not ds.reduce_zero_label
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [i['img_path'] for i in infos] == [str(tmp_path / 'img_dir/val/x.png'),
                                              str(tmp_path / 'img_dir/val/y 2.png')]
    assert [i['seg_map_path'] for i in infos] == [str(tmp_path / 'ann_dir/val/x.png'),
                                                  str(tmp_path / 'ann_dir/val/y 2.png')]
    assert [i['num_classes'] for i in infos] == [4, 4]
    # a class subset changes num_classes with it
    sub = FourPhases(**_split(tmp_path / 's', ['x']), pipeline=[], metainfo=dict(classes=('b',)))
    assert sub.get_data_info(0)['num_classes'] == 1


def test_ebc_passes_layout_arguments_through(tmp_path):
    ds = EBCDataset(crack_as='ignore', seg_map_suffix='.png', **_split(tmp_path, ['x']),
                    pipeline=[])
    assert ds.crack_as == 'ignore' and ds.get_data_info(0)['num_classes'] == 2
    assert ds.label_map == {0: 0, 1: 1, 2: 255}
