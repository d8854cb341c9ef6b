#!/usr/bin/env python
"""Collect unlabelled micrographs into a pool of tiles for self-supervised pretraining, leaving out
every image whose pixels equal an image of the given test sets.

    python tools/dataset_converters/unlabelled.py SRC [SRC ...] -o OUT [--exclude TEST ...]
        [--tile 512] [--val-fraction 0.1] [--keep-data-bar] [--overwrite]

SRC and TEST: image files or folders (searched recursively). For an EBC-1 experiment, exclude the
test images of every split that shares images with it, e.g.::

    D=../shared/data/nasa_benchmark/benchmark_segmentation_data
    python tools/dataset_converters/unlabelled.py $D/EBC1 $D/EBC2 $D/EBC3 my_sem_images/ \\
        -o data/pool_ebc1 --exclude $D/EBC1/test $D/EBC2/test $D/EBC3/test

(label folders such as ``*_annot`` hold masks, not micrographs: leave them out of SRC). Rules and
outputs: :mod:`csunet.datasets.unlabelled`. Exit status 1 when files could not be read (named, the
others pooled), 2 for bad arguments or when nothing is left.
"""
import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 2)[2])
    p.add_argument('sources', nargs='+', help='image files or folders')
    p.add_argument('-o', '--out', required=True, help='output folder')
    p.add_argument('--exclude', nargs='+', default=[], metavar='TEST',
                   help='image files or folders whose pixel content must not be in the pool')
    p.add_argument('--tile', type=int, default=512, help='tile side in pixels (default 512)')
    p.add_argument('--val-fraction', type=float, default=0.1,
                   help='share of the pooled images held out (meta/val.txt) to watch the '
                        'pretraining for overfitting (default 0.1; 0: none)')
    p.add_argument('--keep-data-bar', action='store_true',
                   help='do not cut off an instrument data bar at the bottom')
    p.add_argument('--overwrite', action='store_true', help='replace an existing OUT')
    args = p.parse_args(argv)
    from mmengine.utils import ProgressBar

    from csunet.datasets.unlabelled import PoolError, build_pool, find_images
    try:
        files = find_images(args.sources)
        bar = ProgressBar(len(files))
        stats = build_pool(args.sources, args.out, args.exclude, args.tile,
                           args.keep_data_bar, args.overwrite, progress=bar.update,
                           val_fraction=args.val_fraction, files=files)
    except PoolError as err:
        print(f'\nunlabelled: error: {err}', file=sys.stderr)
        return 2
    print(f"\n{stats['sources']} files: {stats['used']} pooled as {stats['tiles']} tiles of "
          f"{args.tile} px, {stats['excluded']} excluded (test content), {stats['repeats']} "
          f"repeats, {len(stats['unreadable'])} unreadable -> {args.out}/meta/pool.txt "
          f"({stats['tiles'] - stats['val_tiles']} train, {stats['val_tiles']} held out)")
    for path, reason in stats['unreadable']:
        print(f'unlabelled: cannot read {path}: {reason}', file=sys.stderr)
    return 1 if stats['unreadable'] else 0


if __name__ == '__main__':
    sys.exit(main())
