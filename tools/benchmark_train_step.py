"""Parameter counts and training-step time of a CS-UNet config.

    python tools/benchmark_train_step.py [CONFIG] [--depths original intermediate]
        [--size 512] [--batch 2] [--steps 5] [--warmup 2] [--device cpu|cuda]

Builds the model of CONFIG (default ``configs/_base_/models/csunet.py``: CS-UNet with resnet50),
once per Swin depth variant, and times full training steps (forward in ``loss`` mode, backward,
AdamW step) on random images and labels. Prints parameters per branch and the median step time.
"""
import argparse
import statistics
import time

import csunet  # noqa: F401  (must precede mmseg imports)
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

DECODER_DEPTHS = {'original': (6, 2, 2), 'intermediate': (2, 2, 2)}


def count(module: torch.nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default='configs/_base_/models/csunet.py')
    parser.add_argument('--depths', nargs='+', default=['original', 'intermediate'],
                        choices=sorted(DECODER_DEPTHS))
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    init_default_scope('mmseg')
    cfg = Config.fromfile(args.config)
    device = torch.device(args.device)
    print(f'config {args.config}, CNN {cfg.model.backbone.cnn.model_name}, input '
          f'{args.batch}x3x{args.size}x{args.size}, device {device} '
          f'({torch.get_num_threads()} CPU threads), torch {torch.__version__}')
    for variant in args.depths:
        model_cfg = cfg.model.copy()
        model_cfg.backbone.swin.depths = variant
        model_cfg.decode_head.decoder_depths = DECODER_DEPTHS[variant]
        model = MODELS.build(model_cfg).to(device).train()
        optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
        num_classes = model.decode_head.num_classes
        x = torch.randn(args.batch, 3, args.size, args.size, device=device)
        samples = []
        for _ in range(args.batch):
            s = SegDataSample()
            s.gt_sem_seg = PixelData(
                data=torch.randint(0, num_classes, (1, args.size, args.size), device=device))
            s.set_metainfo(dict(img_shape=(args.size, args.size)))
            samples.append(s)
        times = []
        for i in range(args.warmup + args.steps):
            if device.type == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
            losses = model(x, samples, mode='loss')
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            optim.zero_grad()
            loss.backward()
            optim.step()
            if device.type == 'cuda':
                torch.cuda.synchronize()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        print(f'csunet_r50 swin={variant:12s} params: total {count(model):6.2f} M '
              f'(swin {count(model.backbone.swin):.2f} M, cnn {count(model.backbone.cnn):.2f} M, '
              f'decoder {count(model.decode_head):.2f} M) | train step median '
              f'{statistics.median(times):.2f} s (min {min(times):.2f}, {args.steps} steps)')


if __name__ == '__main__':
    main()
