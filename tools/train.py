"""Train a model from a config: ``python tools/train.py CONFIG [--work-dir DIR] [--resume] ...``.

Same flags and behaviour as mmsegmentation's ``tools/train.py``, except that ``--amp`` also works
on the CPU (bf16 autocast; see :mod:`csunet.engine.optimizers.amp`); works for CS-UNet segmentation
configs and for the mmpretrain pretraining configs (``default_scope`` decides). ``csunet`` is
imported first so mmseg runs on mmcv-lite and mmengine checkpoints load under torch's
``weights_only`` default.
"""
import argparse
import os.path as osp
import sys

import csunet  # noqa: F401  (must precede mmseg imports: see csunet.compat)
from csunet.engine import enable_amp
from csunet.engine.runner import add_runner_args, build_runner, load_config, parse_runner_args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor (or a classifier)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', action='store_true', default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='mixed-precision training: bfloat16 autocast on the CPU and on CUDA GPUs with bf16 '
        '(no loss scaling), float16 with dynamic loss scaling on other GPUs')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        sys.exit(f'train.py: config file not found: {args.config}')
    # work_dir priority: CLI > config > ./work_dirs/<config name>
    cfg = load_config(args.config, args.launcher, args.cfg_options, args.work_dir)

    if args.amp:
        # bf16 autocast on the CPU and on CUDA with bf16, fp16 + dynamic loss scaling otherwise
        # (csunet.engine.optimizers.amp explains the choice).
        try:
            enable_amp(cfg.optim_wrapper)
        except ValueError as err:
            sys.exit(f'train.py: {err}')

    cfg.resume = args.resume
    runner = build_runner(cfg)  # the config's runner_type, if any, as mmseg's train.py
    runner.train()


if __name__ == '__main__':
    main()
