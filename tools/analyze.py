#!/usr/bin/env python
"""Segment micrographs with a trained model (or read label masks) and measure them.

    python tools/analyze.py INPUT [INPUT ...] -o OUT --config CFG --checkpoint CKPT
    python tools/analyze.py MASK [MASK ...] -o OUT --masks --material super|ebc

INPUT: image files (TIFF 8/16-bit grey or RGB, PNG, JPEG) or folders of them (searched
recursively; OUT is skipped). Outputs (each file written atomically):

    OUT/summary.csv            one row per image and class (area fraction, particle counts and
                               ECD statistics, γ channel width, oxide thickness, cracks, unit,
                               pixel size, calibration source, data bar rows)
    OUT/particles.csv          one row per particle of a precipitate class
    OUT/field_statistics.csv   per class: mean area fraction over the images, 95 % CI (E1245)
    OUT/report.html            the above, and per image the micrograph, overlay and histograms
    OUT/masks/<name>.png       index mask, same size as the input (255: data bar, not analysed)
    OUT/overlays/<name>.png    classes painted over the micrograph (a line marks a data bar)

A file that cannot be read or has an unsupported layout is reported with the reason; the others
are still analysed and the exit status is 1. See README "Analyse your own micrographs".
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Sequence, Tuple

import numpy as np

DEFAULT_WINDOW = 512

HELP_EPILOG = f"""
defaults and why:
  --window   the config's slide-inference crop (test_cfg crop_size) when it has one, else
             {DEFAULT_WINDOW}: the NASA models are trained on {DEFAULT_WINDOW}x{DEFAULT_WINDOW} crops
             and see the most context at that size. Inference memory grows with the window
             and the image width (one row of windows is held), not with the image area.
  --overlap  a quarter of the window: neighbouring windows overlap by at least this much and
             their class probabilities are cross-faded with linear ramps over the overlap, so a
             pixel's label comes mostly from the window where it is far from the edge and no
             seam shows. Images no larger than the window are segmented whole.
  --device   cuda when a GPU is available, else cpu.
  --scale    1: the model sees the pixels as they are. A config whose test pipeline resizes the
             images (a Resize step) was trained at another resolution: give the factor it
             applied to the training images (the tool says so when it finds one).
  --intensity dtype: 16-bit images are scaled over the full 0-65535 range, as the NASA
             converter did for the training images (same grey levels for every image);
             'stretch' maps the 0.1-99.9 percentiles to 0-255 (e.g. 12-bit data in 16-bit files).
  pixel size --pixel-size/--unit, else the TIFF's own metadata (FEI/Thermo, Zeiss SEM, ImageJ,
             resolution tags), else pixels; the source is written to every output.
  data bar   an instrument data bar at the bottom (rule in csunet/analysis/data_bar.py) is
             excluded from segmentation and measurement; --keep-data-bar turns this off.
"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0], epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('inputs', nargs='+', help='image/mask files or folders of them')
    p.add_argument('-o', '--out', required=True, help='output folder')
    p.add_argument('--config', help='mmseg config of the model')
    p.add_argument('--checkpoint', help='trained checkpoint (.pth)')
    p.add_argument('--masks', action='store_true',
                   help='inputs are label masks: measure them, no model')
    p.add_argument('--material', choices=('super', 'ebc'),
                   help='with --masks (required): the mask encoding - super: index 0 matrix, '
                   '1 secondary, 2 tertiary, or NASA\'s RGB(A) overlays (blue secondary, red '
                   'tertiary); ebc: index 0 background, 1 oxide, 2 crack. With a model: checks '
                   'that its classes are this material\'s')
    p.add_argument('--pixel-size', type=float, help='pixel size, in --unit')
    p.add_argument('--unit', choices=('nm', 'um'), default='um',
                   help='unit of --pixel-size and of the outputs when calibrated (default um)')
    p.add_argument('--device', help='torch device (default: cuda if available, else cpu)')
    p.add_argument('--window', type=int, nargs='+', metavar='PX',
                   help='window height [width] in pixels (default: see below)')
    p.add_argument('--overlap', type=int, metavar='PX', help='minimum window overlap in pixels')
    p.add_argument('--batch-size', type=int, default=1, help='windows per forward pass')
    p.add_argument('--scale', type=float, default=1.0,
                   help='resize factor for a model trained on resized images, e.g. 0.25 for '
                   'configs/cpu_budget/*_ebc1-256x256.py (1024 px images seen at 256 px); '
                   'masks and measurements stay at the input\'s resolution (default 1)')
    p.add_argument('--intensity', choices=('dtype', 'stretch'), default='dtype',
                   help='16-bit to 8-bit conversion (default dtype; see below)')
    p.add_argument('--keep-data-bar', action='store_true',
                   help='do not detect and exclude an instrument data bar')
    args = p.parse_args(argv)
    if args.masks:
        if not args.material:
            p.error('--masks needs --material super|ebc')
    elif not (args.config and args.checkpoint):
        p.error('segmenting images needs --config and --checkpoint (or --masks)')
    if args.pixel_size is not None and not args.pixel_size > 0:
        p.error('--pixel-size must be > 0')
    if not args.scale > 0:
        p.error('--scale must be > 0')
    if args.window and len(args.window) > 2:
        p.error('--window takes one or two values')
    return args


def load_model(config: str, checkpoint: str, device: str):
    """(model in eval mode, class names, config); raises ValueError with the reason."""
    import csunet  # noqa: F401  (mmseg on mmcv-lite, registries)
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
    from csunet.analysis.io import UNCALIBRATED, Calibration, tiff_calibration
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
    from csunet.analysis import io as aio
    from csunet.analysis import report
    from csunet.analysis.data_bar import detect_data_bar
    from csunet.analysis.measure import IGNORE, measure_mask
    from mmengine.utils import ProgressBar

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


def main(argv=None) -> int:
    args = parse_args(argv)
    from csunet.analysis import io as aio
    from csunet.analysis import report
    from csunet.analysis.measure import PARTICLE_FIELDS, SUMMARY_FIELDS, class_roles
    from csunet.datasets import nasa_encoding
    from mmengine.utils import ProgressBar

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
        from csunet.analysis.inference import TiledSegmenter
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


if __name__ == '__main__':
    sys.exit(main())
