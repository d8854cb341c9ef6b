#!/usr/bin/env python
"""Speed and memory: CS-UNet against a same-run Unet-r50, training step and whole-image inference.

    python tools/benchmark_speed_memory.py [CONFIG] [--depths original intermediate]
        [--baseline unet_r50|none] [--size 512] [--batch 2] [--steps 5] [--warmup 2]
        [--infer-sizes 1024x1024 2048x1536 4096x4096] [--infer-steps 3] [--infer-warmup 1]
        [--no-train] [--no-infer] [--amp] [--device cpu|cuda] [--threads N]
        [--mem-limit-gb G] [--peak-tflops T] [--with-cp] [--before CHECKOUT]

Every (model, measurement) runs in a fresh process; each row gives the median time, peak memory
and FLOPs, and their ratios to the baseline of the same run. Method: :mod:`csunet.benchmark`;
figures: docs/benchmark.md.
"""
import argparse
import os.path as osp
from typing import List, Optional

from csunet import benchmark as bench


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from csunet.models.backbones.swin_resmlp import SWIN_DEPTHS  # the variants' one table
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='Method: csunet/benchmark.py; figures: docs/benchmark.md.')
    parser.add_argument('config', nargs='?', default='configs/_base_/models/csunet.py')
    parser.add_argument('--depths', nargs='+', default=list(SWIN_DEPTHS),
                        choices=sorted(SWIN_DEPTHS), help='CS-UNet Swin depth variants')
    parser.add_argument('--baseline', choices=[bench.BASELINE, 'none'], default=bench.BASELINE)
    parser.add_argument('--size', type=int, default=512, help='training crop (square)')
    parser.add_argument('--batch', type=int, default=2, help='training batch size')
    parser.add_argument('--steps', type=int, default=5, help='timed training steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed training steps first')
    parser.add_argument('--infer-sizes', nargs='*', type=bench.parse_shape,
                        default=[(1024, 1024), (2048, 1536), (4096, 4096)], metavar='HxW')
    parser.add_argument('--infer-steps', type=int, default=3)
    parser.add_argument('--infer-warmup', type=int, default=1)
    parser.add_argument('--no-train', action='store_true', help='skip the training step')
    parser.add_argument('--no-infer', action='store_true', help='skip inference')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast where supported, else fp16 (+ GradScaler)')
    parser.add_argument('--device', default=None, help='cpu or cuda (default: cuda if present)')
    parser.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: torch)')
    parser.add_argument('--mem-limit-gb', type=float, default=None,
                        help='CPU: address space each subprocess may add after its imports '
                        '(default: MemAvailable at the start; 0: no limit)')
    parser.add_argument('--peak-tflops', type=float, default=None,
                        help="CUDA: the card's peak TFLOP/s for the dtype used, for MFU")
    parser.add_argument('--with-cp', action='store_true',
                        help='also CS-UNet with activation checkpointing (training rows)')
    parser.add_argument('--before', metavar='CHECKOUT', default=None,
                        help='also CS-UNet imported from this checkout (e.g. a git worktree of '
                        'an earlier commit), measured before each CS-UNet row')
    args = parser.parse_args(argv)
    if min(args.steps, args.infer_steps) < 1 or min(args.warmup, args.infer_warmup) < 0:
        parser.error('--steps/--infer-steps must be >= 1, --warmup/--infer-warmup >= 0')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    mem_limit = args.mem_limit_gb
    if mem_limit is None and device == 'cpu':
        mem_limit = bench.mem_available_gb()
    from csunet.models.backbones.swin_resmlp import mirrored_decoder_depths
    models = []
    cnn = Config.fromfile(args.config).model.backbone.get('cnn')
    for d in args.depths:
        variant = dict(model='csunet', depths=d, decoder_depths=mirrored_decoder_depths(d),
                       cnn=cnn.model_name if cnn else None)
        if args.before:
            models.append(dict(variant, checkout=osp.abspath(args.before)))
        models.append(variant)
        if args.with_cp:
            models.append(dict(variant, with_cp=True))
    if args.baseline != 'none':
        models.insert(0, dict(model=bench.BASELINE, depths=None))
    common = dict(config=osp.abspath(args.config), device=device, amp=args.amp,
                  threads=args.threads, mem_limit_gb=mem_limit)
    threads = args.threads or torch.get_num_threads()
    print(f'config {args.config}, device {device}'
          f'{f" ({torch.cuda.get_device_name(0)})" if device.startswith("cuda") else ""}, '
          f'{threads} CPU threads, torch {torch.__version__}, '
          f'{"AMP (bf16 where supported, else fp16)" if args.amp else "fp32"}; every row in a '
          f'fresh process{f", address-space limit +{mem_limit:.2f} GB" if mem_limit else ""}; '
          f'ratios vs {args.baseline} of this run')
    sections = []
    if not args.no_train:
        sections.append(
            (f'train step {args.size}x{args.size}, batch {args.batch} (forward, 0.7 BCE + 0.3 '
             f'Dice, backward, Adam; median of {args.steps} after {args.warmup} warm-up)',
             dict(mode='train', shape=(args.size, args.size), batch=args.batch,
                  steps=args.steps, warmup=args.warmup)))
    if not args.no_infer:
        for h, w in args.infer_sizes:
            sections.append(
                (f'whole-image inference {h}x{w}, batch 1 (eval, no grad; median of '
                 f'{args.infer_steps} after {args.infer_warmup} warm-up)',
                 dict(mode='infer', shape=(h, w), batch=1, steps=args.infer_steps,
                      warmup=args.infer_warmup)))
    header = (f'{"model":39s} | {"params":8s} | {"time: median (min)":>22s} | ratio | '
              f'{"peak mem":>9s} | ratio | {"FLOPs":>15s}'
              + (' | img/s | TFLOP/s | MFU' if device.startswith('cuda') else ''))
    for title, spec in sections:
        print(f'\n{title}\n{header}', flush=True)
        base = None
        for model in models:
            if model.get('with_cp') and spec['mode'] != 'train':
                continue  # checkpointing acts in training only
            job = dict(common, **spec, **model)
            res = bench.run_job(job)
            if model['model'] == bench.BASELINE:
                base = res
            print(bench.format_row(job, res, base, args.peak_tflops), flush=True)


if __name__ == '__main__':
    main()
