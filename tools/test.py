"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--show-dir DIR] [--out DIR]``.

Same flags and behaviour as mmsegmentation's ``tools/test.py``: prints the config's test metrics
(mIoU and the per-class IoU table for segmentation), optionally saves prediction overlays
(``--show-dir``) and raw predictions (``--out``).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

import csunet  # noqa: F401  (must precede mmseg imports: see csunet.compat)
from csunet.engine.runner import add_runner_args, build_runner, load_config, parse_runner_args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the file containing '
                        'evaluation metrics')
    parser.add_argument('--out', type=str, help='directory to save the output results')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='directory where painted images will be saved; '
                        'relative paths are under the run\'s timestamped work-dir folder')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument('--tta', action='store_true', help='Test time augmentation')
    add_runner_args(parser)
    return parse_runner_args(parser)


def trigger_visualization_hook(cfg: Config, args: argparse.Namespace) -> Config:
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        sys.exit('--show/--show-dir need `visualization=dict(type="SegVisualizationHook")` '
                 'in default_hooks of the config')
    visualization_hook = default_hooks['visualization']
    visualization_hook['draw'] = True
    # mmseg's hook draws every 50th image by default; an overlay of every test image is what
    # --show/--show-dir users expect (an interval set on the command line is kept).
    visualization_hook.setdefault('interval', 1)
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualizer = cfg.visualizer
        visualizer['save_dir'] = args.show_dir
    return cfg


def main() -> None:
    args = parse_args()
    for kind, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if '://' not in path and not osp.isfile(path):
            sys.exit(f'test.py: {kind} file not found: {path}')
    cfg = load_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    runner = build_runner(cfg)  # the config's runner_type, if any (as mmseg's train.py does)
    runner.test()


if __name__ == '__main__':
    main()
