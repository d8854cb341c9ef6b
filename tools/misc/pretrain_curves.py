#!/usr/bin/env python
"""Plot self-supervised pretraining runs (configs/pretrain/): training loss, held-out loss and
held-out embedding std (SelfSupHeldOutHook) against the iteration, one column per run.

    python tools/misc/pretrain_curves.py work_dirs/simmim_swin-original_micrographs \\
        work_dirs/simsiam_resnet50_micrographs -o pretraining.png
"""
import argparse
import os.path as osp
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('runs', nargs='+', help='work dirs of tools/train.py runs')
    p.add_argument('-o', '--out', required=True, help='output PNG')
    args = p.parse_args(argv)
    from csunet.analysis.results import plot_pretraining
    missing = [r for r in args.runs if not osp.isdir(r)]
    if missing:
        print(f'pretrain_curves: error: not a folder: {", ".join(missing)}', file=sys.stderr)
        return 2
    plot_pretraining(args.runs, args.out)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
