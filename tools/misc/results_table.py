#!/usr/bin/env python
"""Train and test every (config, seed) and tabulate the test metrics over seeds.

    python tools/misc/results_table.py CONFIG [CONFIG ...] --seeds 0 1 -o OUT_DIR \\
        [--cfg-options KEY=VALUE ...]

Outputs ``OUT_DIR/results.csv``, ``results.md`` and ``curves.png``; finished runs are skipped on a
rerun, interrupted ones resumed, and a folder made with other settings is never reused. The
details and the logic are in :mod:`csunet.analysis.results`.
"""
import argparse
import os.path as osp
import sys

from csunet.analysis import results


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=results.__doc__.split('\n\n', 3)[3])
    p.add_argument('configs', nargs='+', help='config files')
    p.add_argument('--seeds', type=int, nargs='+', default=[0], help='seeds (default: 0)')
    p.add_argument('-o', '--out-dir', required=True, help='folder of the runs and tables')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='overrides applied to every run (train and test), as in tools/train.py')
    args = p.parse_args(argv)
    # Kept as given for the child processes; parsed here only to fail early when malformed.
    results.parse_cfg_options(args.cfg_options)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        records, problems = results.run_table(args.configs, args.seeds, args.cfg_options,
                                              args.out_dir,
                                              log=lambda line: print(line, flush=True))
    except FileNotFoundError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if problems:  # a usage error: nothing is run and the tables already written stay as they are
        print(f'error: {args.out_dir} holds runs made with other settings; nothing was run:\n  ' +
              '\n  '.join(problems), file=sys.stderr)
        return 2
    failed = sum(r['status'] != 'ok' for r in records)
    print(f'results: {osp.join(args.out_dir, "results.csv")}, '
          f'{osp.join(args.out_dir, "results.md")}, {osp.join(args.out_dir, "curves.png")} '
          f'({len(records) - failed} ok, {failed} failed)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
