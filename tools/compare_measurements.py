#!/usr/bin/env python
"""Compare a model's measurements with the ground truth's, per class and quantity.

    python tools/analyze.py TEST_MASKS -o gt/ --masks --material super
    python tools/analyze.py TEST_IMAGES -o pred/ --config CFG --checkpoint CKPT
    python tools/compare_measurements.py gt/ pred/ [-o comparison.md]

Prints (and with -o writes) a Markdown table: per class and quantity of ``summary.csv`` the
number of images, the truth's and the prediction's means, the mean absolute error and the mean
error relative to the truth. See :mod:`csunet.analysis.compare`.
"""
import argparse
import os.path as osp
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('truth', help='output folder (or summary.csv) of analyze.py --masks')
    p.add_argument('pred', help='output folder (or summary.csv) of analyze.py with a model')
    p.add_argument('-o', '--out', help='also write the table to this Markdown file')
    p.add_argument('--unit', default='px', help='unit of the sizes in the table (default px)')
    args = p.parse_args(argv)
    from csunet.analysis.compare import CompareError, compare_summaries, markdown_table
    from csunet.fileio import write_text_atomic

    def summary(path):
        return osp.join(path, 'summary.csv') if osp.isdir(path) else path

    try:
        rows = compare_summaries(summary(args.truth), summary(args.pred))
    except CompareError as err:
        print(f'compare_measurements: error: {err}', file=sys.stderr)
        return 2
    table = markdown_table(rows, args.unit)
    print(table)
    if args.out:
        write_text_atomic(args.out, table + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
