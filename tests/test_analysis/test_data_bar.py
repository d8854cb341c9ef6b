"""csunet.analysis.data_bar: the SEM data-bar rule shared with the MicroLite converter."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from csunet.analysis.data_bar import detect_data_bar

REPO_ROOT = Path(__file__).resolve().parents[2]


def _micrograph(h, w, seed=0):
    return np.random.default_rng(seed).integers(60, 200, (h, w), dtype=np.uint8)


def test_bar_found_in_grey_and_rgb():
    img = _micrograph(300, 200)
    img[-30:] = 0
    img[-20:-10, 20:120] = 255  # white text on the black bar
    assert detect_data_bar(img) == 30
    assert detect_data_bar(np.repeat(img[..., None], 3, axis=2)) == 30
    assert detect_data_bar(_micrograph(300, 200)) == 0
    with pytest.raises(TypeError, match='uint8'):
        detect_data_bar(img.astype(np.uint16))


def test_microlite_converter_uses_the_package_rule():
    spec = importlib.util.spec_from_file_location(
        'microlite_converter', REPO_ROOT / 'tools/dataset_converters/microlite.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.detect_data_bar is detect_data_bar
