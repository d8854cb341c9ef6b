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
are still analysed and the exit status is 1. The work is done by :mod:`csunet.analysis.pipeline`;
definitions of the measurements: docs/analysis.md.
"""
import argparse
import sys

from csunet.analysis.pipeline import DEFAULT_WINDOW, AnalysisOptions, analyse

HELP_EPILOG = f"""
defaults and why:
  --window   the config's slide-inference crop (test_cfg crop_size) when it has one, else
             {DEFAULT_WINDOW}: the NASA models are trained on {DEFAULT_WINDOW}x{DEFAULT_WINDOW}
             crops and see the most context at that size. Inference memory grows with the window
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


def main(argv=None) -> int:
    args = parse_args(argv)
    return analyse(AnalysisOptions(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
