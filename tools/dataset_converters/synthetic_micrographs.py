"""Write a deterministic synthetic micrograph data set in the NASA-converter layout.

Usage::

    python tools/dataset_converters/synthetic_micrographs.py OUT [--material super|ebc]
        [--num-train 8] [--num-val 2] [--num-test 2] [--size H W] [--seed 0] [--name NAME]

Writes ``OUT/<name>/{img_dir,ann_dir}/<part>/<stem>.png`` and ``OUT/<name>/splits/<part>.txt``
(``<name>`` defaults to ``synthetic_<material>``); see :mod:`csunet.datasets.synthetic`.
"""
import argparse
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='output folder OUT')
    parser.add_argument('--material', choices=('super', 'ebc'), default='super',
                        help='superalloy (matrix/secondary/tertiary) or coating (oxide/crack)')
    parser.add_argument('--num-train', type=int, default=8)
    parser.add_argument('--num-val', type=int, default=2)
    parser.add_argument('--num-test', type=int, default=2)
    parser.add_argument('--size', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'),
                        help='image height and width (default: 256 256)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--name', default=None,
                        help='data set folder under OUT (default: synthetic_<material>)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from csunet.datasets.synthetic import generate_dataset
    root = generate_dataset(
        args.out_dir,
        material=args.material,
        num_train=args.num_train,
        num_val=args.num_val,
        num_test=args.num_test,
        size=tuple(args.size),
        seed=args.seed,
        name=args.name)
    print(f'{args.material}: {args.num_train}/{args.num_val}/{args.num_test} '
          f'train/val/test samples of {args.size[0]}x{args.size[1]} written to {root}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
