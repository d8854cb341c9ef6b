"""From micrograph to numbers: image I/O and calibration (:mod:`.io`), data-bar detection
(:mod:`.data_bar`), tiled blended inference (:mod:`.inference`), measurements
(:mod:`.measure`) and outputs (:mod:`.report`); driven by ``tools/analyze.py``.

Only :mod:`.data_bar` is imported here (it is light); import the others explicitly.
"""
from .data_bar import detect_data_bar, row_classes

__all__ = ['detect_data_bar', 'row_classes']
