"""Speed and memory of CS-UNet against a same-run Unet-r50 baseline: training step and
whole-image inference (the logic of ``tools/benchmark_speed_memory.py``)::

    python tools/benchmark_speed_memory.py [CONFIG] [--depths original intermediate]
        [--baseline unet_r50|none] [--size 512] [--batch 2] [--steps 5] [--warmup 2]
        [--infer-sizes 1024x1024 2048x1536 4096x4096] [--infer-steps 3] [--infer-warmup 1]
        [--no-train] [--no-infer] [--amp] [--device cpu|cuda] [--threads N]
        [--mem-limit-gb G] [--peak-tflops T] [--with-cp] [--before CHECKOUT]

Models: CS-UNet from CONFIG (default ``configs/_base_/models/csunet.py``, CNN resnet50), once per
Swin depth variant (rows labelled by the config's CNN, e.g. ``csunet_r50 swin=intermediate``),
and the baseline, ``segmentation_models_pytorch.Unet('resnet50')`` (random weights; an optional
dependency: ``pip install --no-deps -r requirements/benchmark.txt``).
``--with-cp`` adds CS-UNet rows with activation checkpointing (``with_cp=True`` in the Swin branch,
the CNN branch and the decoder; training only, inference is the same). The allocator is the
process's: run the tool under ``LD_PRELOAD=.../libjemalloc.so.2`` to measure jemalloc (every
row inherits it). ``--before CHECKOUT`` adds, before each
CS-UNet row, the same model imported from another checkout (``CHECKOUT/projects`` first on
``PYTHONPATH``, e.g. a ``git worktree`` of an earlier commit), so that an optimisation is
compared in one run, on one machine state.

* **Training step** (``--size`` square crops, ``--batch``): forward, loss 0.7·BCE + 0.3·Dice
  (csunet's ``BCEDiceLoss`` for both models), backward, Adam step; fp32 unless ``--amp`` (bf16
  autocast where supported, else fp16 with a ``GradScaler``, as ``tools/train.py --amp``).
* **Whole-image inference** (each ``--infer-sizes`` ``HxW``, batch 1, eval mode, no grad): CS-UNet
  through mmseg's ``EncoderDecoder.inference`` (``test_cfg.mode='whole'``), the baseline's forward;
  both give full-resolution logits.

Every (model, measurement) runs in a fresh subprocess, so one variant's allocations cannot
inflate another's peak. Reported per row: median time (and min) over the timed repetitions after
the warm-up ones, peak memory (CPU: the process's peak RSS, ``ru_maxrss``, which includes the
~1 GB of imported libraries; CUDA: ``torch.cuda.max_memory_allocated``), and the ratios to the
baseline measured in the same run. FLOPs are counted with ``torch.utils.flop_counter`` in one
more repetition after the timed ones and after the peak memory is read (matmuls, convolutions,
attention; forward + backward for training): the flop counter keeps tensors alive that the step
frees.
With CUDA also images/s, achieved TFLOP/s and, given the card's peak (``--peak-tflops``, for the
dtype used), model FLOP utilisation (MFU).

On the CPU each subprocess gets an address-space limit (``--mem-limit-gb`` above what it has
mapped once its libraries, model and inputs are loaded; default: the memory available at the
start), so a size that does not fit is reported as out of memory instead of waking the OOM killer
on a shared machine.

This module is also the measuring subprocess: :func:`run_job` runs this file by path with
``--worker JOB`` (by path, so that a ``--before`` checkout's ``csunet`` is the one imported), hence
its imports of ``csunet`` are absolute and inside the functions.
"""
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time
from typing import Optional, Tuple

BASELINE = 'unet_r50'
GB = 1024**3


# ---------------------------------------------------------------------------------- worker
def _status_bytes(key: str) -> int:
    """A ``/proc/self/status`` size (``VmSize``, ``VmRSS`` ...) in bytes; 0 where unavailable."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _vm_size_bytes() -> int:
    return _status_bytes('VmSize')


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _build_model(job: dict):
    """The model of ``job`` and its parameter counts (total and, for CS-UNet, per branch)."""
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(job['config'])
    num_classes = cfg.model.decode_head.num_classes
    if job['model'] == BASELINE:
        try:
            import segmentation_models_pytorch as smp
        except ImportError as err:
            raise SystemExit(
                f'the {BASELINE} baseline needs segmentation_models_pytorch: pip install '
                '--no-deps -r requirements/benchmark.txt (or pass --baseline none)') from err
        model = smp.Unet(encoder_name='resnet50', encoder_weights=None, classes=num_classes)
        branches = {}
    else:
        model_cfg = cfg.model.copy()
        model_cfg.backbone.swin.depths = job['depths']
        # A tuple (the mirror of the variant, from this checkout's table): a --before checkout
        # may predate decoder_depths given by variant name.
        model_cfg.decode_head.decoder_depths = tuple(job['decoder_depths'])
        model_cfg.test_cfg = dict(mode='whole')
        if job.get('with_cp'):
            model_cfg.backbone.swin.with_cp = True
            model_cfg.backbone.cnn.with_cp = True
            model_cfg.decode_head.with_cp = True
        model = MODELS.build(model_cfg)
        branches = dict(swin=model.backbone.swin, cnn=model.backbone.cnn,
                        decoder=model.decode_head)

    def count(m: torch.nn.Module) -> float:
        return sum(p.numel() for p in m.parameters()) / 1e6

    params = dict(total=count(model), **{k: count(v) for k, v in branches.items()})
    return model, num_classes, params


def _run_worker(job: dict) -> dict:
    import torch
    if job['threads']:
        torch.set_num_threads(job['threads'])
    import csunet  # noqa: F401  # isort: skip  (must precede mmseg imports)
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from torch.utils.flop_counter import FlopCounterMode

    from csunet.engine.optimizers import amp_dtype
    init_default_scope('mmseg')
    device = torch.device(job['device'])
    torch.manual_seed(0)
    model, num_classes, params = _build_model(job)
    model = model.to(device)
    is_csunet = job['model'] != BASELINE
    h, w = job['shape']
    batch = job['batch']
    x = torch.randn(batch, 3, h, w, device=device)
    dtype = amp_dtype(device.type) if job['amp'] else torch.float32

    if job['mode'] == 'train':
        model.train()
        labels = torch.randint(0, num_classes, (batch, h, w), device=device)
        loss_fn = MODELS.build(dict(type='BCEDiceLoss', bce_weight=0.7, dice_weight=0.3))
        optim = torch.optim.Adam(model.parameters(), lr=2e-4)
        scaler = torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)
        if is_csunet:
            from mmengine.structures import PixelData
            from mmseg.structures import SegDataSample
            samples = []
            for i in range(batch):
                s = SegDataSample()
                s.gt_sem_seg = PixelData(data=labels[i:i + 1])
                s.set_metainfo(dict(img_shape=(h, w), pad_shape=(h, w)))
                samples.append(s)

        def step() -> None:
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not torch.float32):
                if is_csunet:  # the decode head's loss is BCEDiceLoss(0.7, 0.3)
                    losses = model(x, samples, mode='loss')
                    loss = sum(v for k, v in losses.items() if 'loss' in k)
                else:
                    loss = loss_fn(model(x), labels)
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optim)
            scaler.update()
    else:
        model.eval()
        metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))] * batch

        @torch.no_grad()
        def step() -> None:
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not torch.float32):
                logits = model.inference(x, metas) if is_csunet else model(x)
            assert logits.shape[-2:] == (h, w), logits.shape

    result = dict(params=params, base_rss=_status_bytes('VmRSS'), times=[], flops=None,
                  dtype=str(dtype).replace('torch.', ''))
    if device.type == 'cpu' and job['mem_limit_gb']:
        # Limit what the measurement adds to the address space mapped so far (libraries, model,
        # inputs). Not on CUDA, whose driver reserves vast virtual ranges.
        limit = _vm_size_bytes() + int(job['mem_limit_gb'] * GB)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    try:
        for i in range(job['warmup'] + job['steps']):
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            step()
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            if i >= job['warmup']:
                result['times'].append(time.perf_counter() - start)
    except (MemoryError, RuntimeError) as err:  # RLIMIT_AS or CUDA out of memory
        if not isinstance(err, MemoryError) and 'alloc' not in str(err).lower() \
                and 'out of memory' not in str(err).lower():
            raise
        result['error'] = 'out of memory'
    result['peak_rss'] = _peak_rss_bytes()
    if device.type == 'cuda':
        result['cuda_peak'] = torch.cuda.max_memory_allocated(device)
    if 'error' not in result:
        # Counted in one more repetition, after the peak memory is read: FlopCounterMode keeps
        # tensors alive that the step frees (with activation checkpointing, a 512² step under
        # it peaked at 5.3 GB instead of 3.75), and the allocator keeps much of that afterwards.
        counter = FlopCounterMode(display=False)
        try:
            with counter:
                step()
            result['flops'] = counter.get_total_flops()
        except (MemoryError, RuntimeError):
            pass  # FLOPs stay unknown ('-')
    return result


# ---------------------------------------------------------------------------------- driver
def mem_available_gb() -> float:
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) * 1024 / GB
    return 0.0


def run_job(job: dict) -> dict:
    """Run one measurement in a fresh interpreter; its result is the last stdout line (JSON)."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if job.get('checkout'):
        env['PYTHONPATH'] = os.pathsep.join(
            [osp.join(job['checkout'], 'projects')] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--worker', json.dumps(job)],
        capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        print((proc.stdout + proc.stderr)[-3000:], file=sys.stderr)
        return dict(error=f'failed (exit {proc.returncode}; its output is above)')
    return json.loads(lines[-1])


def parse_shape(text: str) -> Tuple[int, int]:
    """``'HxW'`` -> ``(H, W)`` (an argparse type)."""
    import argparse
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f'expected HxW, got {text!r}') from err
    return h, w


def cnn_tag(model_name: Optional[str]) -> str:
    """``csunet_<CNN>`` with the grid's short name of a timm CNN (``r50``), else its timm name;
    ``swinunet`` without a CNN."""
    if model_name is None:
        return 'swinunet'
    from csunet.experiments import ENCODERS
    short = {name: enc.short for name, enc in ENCODERS.items()}
    short.update({enc.converted: enc.short for enc in ENCODERS.values()})
    return f'csunet_{short.get(model_name, model_name)}'


def label(job: dict) -> str:
    """The row's name: the model as configured (its CNN), the Swin variant and the options."""
    if job['model'] == BASELINE:
        return BASELINE
    return (f'{cnn_tag(job.get("cnn", "resnet50"))} swin={job["depths"]}'
            + (' with_cp' if job.get('with_cp') else '')
            + (' (before)' if job.get('checkout') else ''))


def _fmt_bytes(n: Optional[int]) -> str:
    return '-' if n is None else f'{n / GB:.2f} GB'


def format_row(job: dict, res: dict, base: Optional[dict],
               peak_tflops: Optional[float] = None) -> str:
    """One table row: the measurement ``res`` of ``job``, with ratios to ``base``."""
    name = f'{label(job):39s}'
    if res.get('error'):
        return f'{name} | {res["error"]}' + (
            f' (peak RSS {_fmt_bytes(res.get("peak_rss"))})' if res.get('peak_rss') else '')
    cuda = job['device'].startswith('cuda')
    med = statistics.median(res['times'])
    mem = res['cuda_peak'] if cuda else res['peak_rss']
    timing = f'{med:.3f} s (min {min(res["times"]):.3f})'
    parts = [name, f'{res["params"]["total"]:6.2f} M', f'{timing:>22s}']
    base_ok = base is not None and not base.get('error')
    if base_ok:
        parts.append(f'{med / statistics.median(base["times"]):4.2f}x')
    parts.append(f'{_fmt_bytes(mem):>9s}')
    if base_ok:
        parts.append(f'{mem / (base["cuda_peak"] if cuda else base["peak_rss"]):4.2f}x')
    flops = res.get('flops')
    parts.append(f'{flops / 1e9:9.1f} GFLOP' if flops else f'{"-":>15s}')
    if cuda:
        parts.append(f'{job["batch"] / med:8.2f} img/s')
        if flops:
            achieved = flops / med / 1e12
            parts.append(f'{achieved:7.2f} TFLOP/s')
            parts.append(f'MFU {100 * achieved / peak_tflops:5.1f} %'
                         if peak_tflops else 'MFU - (no --peak-tflops)')
    return ' | '.join(parts)


if __name__ == '__main__':  # the measuring subprocess of run_job
    import sys as _sys
    print(json.dumps(_run_worker(json.loads(_sys.argv[_sys.argv.index('--worker') + 1]))))
