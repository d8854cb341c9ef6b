"""From micrograph to numbers: image I/O and calibration (:mod:`.io`), data-bar detection
(:mod:`.data_bar`), tiled blended inference (:mod:`.inference`), measurements
(:mod:`.measure`) and outputs (:mod:`.report`), run over images by :mod:`.pipeline`
(``tools/analyze.py``); predicted against true measurements: :mod:`.compare`
(``tools/compare_measurements.py``). Training runs over configs and seeds, their tables and
curves: :mod:`.results` (``tools/misc/results_table.py``).

Exported here: the data-bar rule and the entry points of :mod:`.pipeline` and :mod:`.results`
(both import their heavy parts inside the functions); import the other names from their
modules.
"""
from .data_bar import detect_data_bar, row_classes
from .pipeline import AnalysisOptions, analyse, load_model
from .results import run_curves, run_table

__all__ = ['detect_data_bar', 'row_classes', 'AnalysisOptions', 'analyse', 'load_model',
           'run_curves', 'run_table']
