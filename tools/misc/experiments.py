#!/usr/bin/env python
"""The CS-UNet experiment grid of the paper: list it, or write the leaf config of one experiment.

    python tools/misc/experiments.py list            # one config name per line, then the count
    python tools/misc/experiments.py list --count    # the count only
    python tools/misc/experiments.py write --encoder seresnext50_32x4d --cnn-pretrain micronet \\
        --swin original --swin-pretrain microlite --dataset super1 [-o configs/csunet/] [--force]
    python tools/misc/experiments.py list --baselines  # the comparison models' experiments
    python tools/misc/experiments.py baseline --model transdeeplab-2l --swin original \\
        --swin-pretrain imagenet --dataset ebc1 [-o configs/baselines/] [--force]

The grid, the naming rule and the leaf template are in :mod:`csunet.experiments`.
"""
import argparse
import os
import sys

from csunet.experiments import (BASELINES, CNN_PRETRAININGS, DATASETS, ENCODERS, SWIN_PRETRAININGS,
                                SWIN_VARIANTS, all_baselines, all_experiments, validate,
                                validate_baseline, write_leaf)

# This checkout's configs/ (tools/misc/ -> the repository), whichever way csunet is installed.
CONFIGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'configs')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    pl = sub.add_parser('list', help='list every expressible experiment (config names)')
    pl.add_argument('--count', action='store_true', help='print the number only')
    pl.add_argument('--baselines', action='store_true',
                    help='the comparison models\' experiments instead of CS-UNet\'s')
    pw = sub.add_parser('write', help='write the leaf config of one experiment')
    pw.add_argument('--encoder', required=True, help=f'one of {", ".join(ENCODERS)}')
    pw.add_argument('--cnn-pretrain', default='none', help=f'one of {", ".join(CNN_PRETRAININGS)}')
    pw.add_argument('--swin', default='original', help=f'one of {", ".join(SWIN_VARIANTS)}')
    pw.add_argument('--swin-pretrain', default='none',
                    help=f'one of {", ".join(SWIN_PRETRAININGS)}')
    pw.add_argument('--dataset', required=True, help=f'one of {", ".join(DATASETS)}')
    pw.add_argument('-o', '--out-dir', default=os.path.join(CONFIGS_DIR, 'csunet'))
    pw.add_argument('--force', action='store_true', help='overwrite a different existing file')
    pb = sub.add_parser('baseline', help='write the leaf config of a comparison model')
    pb.add_argument('--model', required=True, help=f'one of {", ".join(BASELINES)}')
    pb.add_argument('--swin', default='original', help=f'one of {", ".join(SWIN_VARIANTS)}')
    pb.add_argument('--swin-pretrain', default='none',
                    help=f'one of {", ".join(SWIN_PRETRAININGS)}')
    pb.add_argument('--dataset', required=True, help=f'one of {", ".join(DATASETS)}')
    pb.add_argument('-o', '--out-dir', default=os.path.join(CONFIGS_DIR, 'baselines'))
    pb.add_argument('--force', action='store_true', help='overwrite a different existing file')
    args = p.parse_args(argv)

    if args.cmd == 'list':
        exps = all_baselines() if args.baselines else all_experiments()
        if not args.count:
            for e in exps:
                print(e.name)
        print(len(exps))
        return 0
    try:
        if args.cmd == 'baseline':
            exp = validate_baseline(model=args.model, swin=args.swin,
                                    swin_pretrain=args.swin_pretrain, dataset=args.dataset)
        else:
            exp = validate(encoder=args.encoder, cnn_pretrain=args.cnn_pretrain, swin=args.swin,
                           swin_pretrain=args.swin_pretrain, dataset=args.dataset)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    try:
        path = write_leaf(exp, args.out_dir, args.force, CONFIGS_DIR)
    except (FileExistsError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
