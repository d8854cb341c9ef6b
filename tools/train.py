"""Train a model from a config: ``python tools/train.py CONFIG [--work-dir DIR] [--resume] ...``.

Same flags and behaviour as mmsegmentation's ``tools/train.py``, except that ``--amp`` also works
on the CPU (bf16 autocast; see :mod:`csunet.engine.optimizers.amp`); works for CS-UNet segmentation
configs and for the mmpretrain pretraining configs (``default_scope`` decides). ``csunet`` is
imported first so mmseg runs on mmcv-lite and mmengine checkpoints load under torch's
``weights_only`` default.
"""
import argparse
import os
import os.path as osp
import sys

import csunet  # noqa: F401  (must precede mmseg imports: see csunet.compat)
from csunet.engine import enable_amp
from mmengine.config import Config, DictAction
from mmengine.runner import Runner


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
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override some settings in the used config, the key-value pair in xxx=yyy format '
        'will be merged into config file.')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        sys.exit(f'train.py: config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        # bf16 autocast on the CPU and on CUDA with bf16, fp16 + dynamic loss scaling otherwise
        # (csunet.engine.optimizers.amp explains the choice).
        try:
            enable_amp(cfg.optim_wrapper)
        except ValueError as err:
            sys.exit(f'train.py: {err}')

    cfg.resume = args.resume
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
