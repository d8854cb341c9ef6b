"""``tools/analyze.py``'s work: segment micrographs with a trained model (or read label masks),
measure them and write the tables, masks, overlays and report.

In a notebook::

    from csunet.analysis.pipeline import AnalysisOptions, analyse
    analyse(AnalysisOptions(inputs=['my_images/'], out='results/', config=CFG,
                            checkpoint=CKPT, pixel_size=2.5, unit='nm'))

Outputs (each file written atomically) in ``out``: ``summary.csv`` (one row per image and
class), ``particles.csv``, ``field_statistics.csv``, ``report.html``, ``masks/<name>.png`` (index
mask of the input's size, 255 = data bar) and ``overlays/<name>.png``. A file that cannot be read
or has an unsupported layout is reported with the reason and the others are still analysed.
The options' defaults and their reasons: ``python tools/analyze.py --help``.
"""
import os.path as osp
import sys
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

#: Window side when the config has no slide-inference crop: the NASA recipe's training crop.
DEFAULT_WINDOW = 512


@dataclass
class AnalysisOptions:
    """What to analyse and how; the fields are ``tools/analyze.py``'s options."""
    inputs: Sequence[str]
    out: str
    config: Optional[str] = None
    checkpoint: Optional[str] = None
    masks: bool = False
    material: Optional[str] = None
    pixel_size: Optional[float] = None
    unit: str = 'um'
    device: Optional[str] = None
    window: Optional[Sequence[int]] = None
    overlap: Optional[int] = None
    batch_size: int = 1
    scale: float = 1.0
    intensity: str = 'dtype'
    keep_data_bar: bool = False


def load_model(config: str, checkpoint: str, device: str):
    """(model in eval mode, class names, config); raises ValueError with the reason."""
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmseg.apis import init_model
    from mmseg.registry import DATASETS
    if not osp.isfile(config):
        raise ValueError(f'config {config}: no such file')
    if not osp.isfile(checkpoint):
        raise ValueError(f'checkpoint {checkpoint}: no such file')
    cfg = Config.fromfile(config)
    model = init_model(cfg, None, device=device)
    try:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    except Exception as err:
        raise ValueError(f'checkpoint {checkpoint} does not fit {config}: '
                         f'{type(err).__name__}: {err}') from err
    model.eval()
    meta = (ckpt.get('meta') or {}).get('dataset_meta') or {}
    classes = meta.get('classes')
    if not classes:  # checkpoint without dataset_meta: the config's data set
        ds = cfg.test_dataloader.dataset
        classes = ((ds.get('metainfo') or {}).get('classes')
                   or DATASETS.get(ds.type).METAINFO['classes'])
    num_classes = cfg.model.decode_head.num_classes
    if len(classes) != num_classes:
        raise ValueError(f'{len(classes)} class names {list(classes)} for a model with '
                         f'{num_classes} classes')
    return model, [str(c) for c in classes], cfg


class _Failures:
    def __init__(self):
        self.items: List[Tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append((path, reason))
        print(f'\nanalyze: error: {path}: {reason}', file=sys.stderr, flush=True)


def _calibration(path: str, args):
    from .io import UNCALIBRATED, Calibration, tiff_calibration
    if args.pixel_size is not None:
        return Calibration(args.pixel_size, args.unit,
                           f'command line (--pixel-size {args.pixel_size} --unit {args.unit})')
    if osp.splitext(path)[1].lower() in ('.tif', '.tiff'):
        found = tiff_calibration(path)
        if found:
            return Calibration.from_metres(found[0], args.unit, found[1])
    return UNCALIBRATED


def _flat(name: str) -> str:
    return name.replace('/', '__')


def _analyse_one(path: str, name: str, args, segmenter, class_names: Sequence[str],
                 roles: Sequence[str], out: str, summary_rows: list, particles,
                 pictures: list) -> str:
    """Segment (or read) and measure one file and write its outputs; returns the timing line.

    Reading, segmenting and measuring finish before anything of this file is written; its
    table rows are added last.
    """
    from mmengine.utils import ProgressBar

    from . import io as aio
    from . import report
    from .data_bar import detect_data_bar
    from .measure import IGNORE, measure_mask

    t0 = time.time()
    if args.masks:
        image = None
        mask = aio.read_label_mask(path, len(class_names), decode_super=args.material == 'super')
        bar_rows = 0
        field = mask
    else:
        image = aio.read_micrograph(path, args.intensity)
        bar_rows = 0 if args.keep_data_bar else detect_data_bar(image)
        height = image.shape[0] - bar_rows
        n_windows = segmenter.num_windows(height, image.shape[1])
        progress = None
        if n_windows > 1:
            print(f'\n{name}: {image.shape[0]}x{image.shape[1]} px, {n_windows} windows')
            progress = ProgressBar(n_windows).update
        field = segmenter(aio.to_model_input(image[:height]), progress)
        mask = np.full(image.shape[:2], IGNORE, np.uint8)
        mask[:height] = field
    calib = _calibration(path, args)
    t1 = time.time()
    result = measure_mask(field, class_names, calib.pixel_size, roles)
    t2 = time.time()

    report.write_png(osp.join(out, 'masks', f'{name}.png'), mask)
    over = report.overlay(image, mask, data_bar_rows=bar_rows)
    report.write_png(osp.join(out, 'overlays', f'{name}.png'), over, rgb=True)
    files = osp.join('report_files', _flat(name))
    pics = []
    if image is not None:
        report.thumbnail(osp.join(out, files + '_image.jpg'), image)
        pics.append(files + '_image.jpg')
    report.thumbnail(osp.join(out, files + '_overlay.jpg'), over)
    pics.append(files + '_overlay.jpg')
    panels = {f'{cname} {kind}': values for cname, kinds in result['samples'].items()
              for kind, values in kinds.items()}
    hist = report.histogram_png(osp.join(out, files + '_hist.png'), panels, calib.unit, name)
    # rows last: a failure above leaves no rows of this file in the tables
    for cname in class_names:
        summary_rows.append(dict(image=name, **{'class': cname}, **result['classes'][cname],
                                 unit=calib.unit, pixel_size=calib.pixel_size,
                                 calibration_source=calib.source, data_bar_rows=bar_rows))
    for cname, p in result['particles'].items():
        particles.write_columns(dict(p, image=name, unit=calib.unit, **{'class': cname}),
                                p['id'].size)
    h, w = mask.shape
    timing = (f'read + segment {t1 - t0:.1f} s, measure {t2 - t1:.1f} s, '
              f'outputs {time.time() - t2:.1f} s')
    pictures.append(dict(
        name=name, pictures=pics, histogram=files + '_hist.png' if hist else None,
        info=f'{path}: {w}x{h} px, pixel size {calib.pixel_size:.6g} {calib.unit} '
        f'({calib.source}); data bar: {bar_rows} rows{" (excluded)" if bar_rows else ""}; '
        + timing))
    return timing


def analyse(args: AnalysisOptions) -> int:
    """Analyse ``args.inputs`` into ``args.out``; the exit status of ``tools/analyze.py``: 0 all
    analysed, 1 some files failed (named on stderr, the others analysed), 2 nothing could be
    done (no inputs, clashing output names, a model that cannot be loaded or is not the
    material's)."""
    if args.masks and not args.material:
        raise ValueError('label masks (masks=True) need material super|ebc')
    if not args.masks and not (args.config and args.checkpoint):
        raise ValueError('segmenting images needs config and checkpoint (or masks=True)')
    from mmengine.utils import ProgressBar

    from ..datasets import nasa_encoding
    from . import io as aio
    from . import report
    from .measure import PARTICLE_FIELDS, SUMMARY_FIELDS, class_roles

    out = args.out
    inputs, missing = aio.collect_inputs(args.inputs, exclude=out)
    failures = _Failures()
    for path, reason in missing:
        failures.add(path, reason)
    names = {}
    for path, name in inputs:
        if name in names:
            print(f'analyze: error: {names[name]} and {path} would both write outputs named '
                  f'{name!r}; analyse them in separate runs', file=sys.stderr)
            return 2
        names[name] = path
    if not inputs:
        print('analyze: error: no image files found', file=sys.stderr)
        return 1

    if args.masks:
        class_names = list(nasa_encoding.SUPER_CLASSES if args.material == 'super'
                           else nasa_encoding.EBC_RAW_CLASSES)
        segmenter = None
    else:
        import torch

        from .inference import TiledSegmenter
        device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
        try:
            model, class_names, cfg = load_model(args.config, args.checkpoint, device)
        except ValueError as err:
            print(f'analyze: error: {err}', file=sys.stderr)
            return 2
        if args.material:
            expected = list(nasa_encoding.SUPER_CLASSES if args.material == 'super'
                            else nasa_encoding.EBC_RAW_CLASSES)
            if class_names != expected[:len(class_names)]:
                print(f'analyze: error: the model\'s classes {class_names} are not those of '
                      f'--material {args.material} ({expected})', file=sys.stderr)
                return 2
        test_cfg = cfg.model.get('test_cfg') or {}
        window = args.window or (list(test_cfg['crop_size']) if test_cfg.get('mode') == 'slide'
                                 else [DEFAULT_WINDOW])
        window = (window[0], window[-1])
        overlap = args.overlap if args.overlap is not None else min(window) // 4
        resize = [step for step in cfg.test_dataloader.dataset.get('pipeline', [])
                  if step.get('type') == 'Resize']
        if resize and args.scale == 1:
            print(f'analyze: warning: {args.config} resizes its test images '
                  f'({dict(resize[0])}); pass --scale with the factor it applied to the '
                  f'training images, else the model sees another resolution than it was '
                  f'trained at', file=sys.stderr)
        try:
            segmenter = TiledSegmenter(model, window, overlap, args.batch_size, args.scale)
        except ValueError as err:
            print(f'analyze: error: {err}', file=sys.stderr)
            return 2
        print(f'analyze: {len(inputs)} image(s) on {device}, classes {class_names}, '
              f'window {window[0]}x{window[1]}, overlap >= {overlap} px'
              + (f', images resized by {args.scale:g}' if args.scale != 1 else ''))
    roles = class_roles(class_names)

    summary_rows, pictures = [], []
    with report.StreamingCSV(osp.join(out, 'particles.csv'), PARTICLE_FIELDS) as particles:
        bar = ProgressBar(len(inputs))
        for path, name in inputs:
            try:
                timing = _analyse_one(path, name, args, segmenter, class_names, roles, out,
                                      summary_rows, particles, pictures)
                print(f'\n{name}: {timing}', flush=True)
            except Exception as err:  # a bad file must not stop the others
                failures.add(path, str(err) if isinstance(err, aio.InputError) else
                             f'{type(err).__name__}: {err}')
            bar.update()
        print()
        if summary_rows:
            particles.commit()  # else discarded: no tables without an analysed image

    if summary_rows:
        stats = report.field_statistics(summary_rows, class_names)
        report.write_csv(osp.join(out, 'summary.csv'), SUMMARY_FIELDS, summary_rows)
        report.write_csv(osp.join(out, 'field_statistics.csv'), list(stats[0]), stats)
        mode = (f'label masks (--material {args.material})' if args.masks else
                f'model {args.config} + {args.checkpoint}')
        report.write_report(
            osp.join(out, 'report.html'), 'csunet analysis', stats,
            [{k: r.get(k, '') for k in SUMMARY_FIELDS} for r in summary_rows], pictures,
            failures.items, notes=[f'{len(pictures)} image(s) analysed from {mode}.'])
        print(f'analyze: {len(pictures)} image(s) analysed -> {out}/summary.csv, '
              f'particles.csv, field_statistics.csv, report.html, masks/, overlays/')
    if failures.items:
        print(f'analyze: {len(failures.items)} file(s) failed: ' +
              ', '.join(p for p, _ in failures.items), file=sys.stderr)
        return 1
    return 0
