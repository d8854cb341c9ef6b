"""Two-process distributed training on CPU through the real ``tools/dist_train.sh`` (torchrun).

Exercises ``csunet.compat.cpu_dist`` (no CUDA: ``gloo`` instead of the runtime's ``nccl``, no
``torch.cuda.set_device``, DDP without ``device_ids``) and ``TwoPhaseEarlyStopHook`` under DDP: the
tiny CS-UNet trains on generated micrographs with patience 1, so the phase switch (reload of the
best checkpoint, lr drop) and the stop happen within seconds. Both ranks write their own log
(``log_level='DEBUG'`` makes mmengine keep one per rank); the test checks that both ranks took
every decision at the same epoch and iteration, and that what the run leaves behind (rank 0's
``scalars.json``, the best and the last checkpoint) equals what each rank logged.

CUDA is hidden from the training processes, so the test checks the CPU path on GPU machines too.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
FIRST_LR = 3e-2  # high enough that the score stalls within a few epochs (a phase switch)
SECOND_LR = 1e-6
PATIENCE = 1
MAX_EPOCHS = 20  # a cap only: the hook stops the run long before it
CROP = 64

CONFIG = '''
_base_ = [{models!r}, {dataset!r}, {runtime!r}, {schedule!r}]
data_root = {data!r}
model = {model!r}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegLabels'),
    dict(type='RandomCrop', crop_size=({crop}, {crop}), cat_max_ratio=1.0),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root))
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr={first_lr!r}))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={max_epochs}, val_interval=1)
default_hooks = dict(logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=True))
custom_hooks = [dict(type='TwoPhaseEarlyStopHook', monitor='mIoU', patience={patience},
                     second_lr={second_lr!r})]
# DEBUG: mmengine writes one log file per rank (only rank 0's otherwise).
log_level = 'DEBUG'
randomness = dict(seed=0)
'''

_WHERE = r'TwoPhaseEarlyStopHook at epoch (\d+), iter (\d+)'
VAL_RE = re.compile(_WHERE + r': mIoU ([\d.]+), best ([\d.]+), phase (\d), (\d+)/\d+ '
                    r'validations without improvement, lr ([\d.e+-]+)')
SWITCH_RE = re.compile(_WHERE + r': no improvement .*; phase 2: reloading (\S+) and setting lr')
STOP_RE = re.compile(_WHERE + r': no improvement .* of phase 2 .*; stopping training')
LOAD_RE = re.compile(r'Loads checkpoint by local backend from path: (\S+)')


def _parse_rank_log(text: str) -> dict:
    vals = [
        dict(epoch=int(m[1]), iter=int(m[2]), score=float(m[3]), best=float(m[4]),
             phase=int(m[5]), wait=int(m[6]), lr=float(m[7])) for m in VAL_RE.finditer(text)
    ]
    return dict(
        vals=vals,
        switches=[(int(m[1]), int(m[2]), m[3]) for m in SWITCH_RE.finditer(text)],
        stops=[(int(m[1]), int(m[2])) for m in STOP_RE.finditer(text)],
        loads=LOAD_RE.findall(text))


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available()
                    or not torch.distributed.is_gloo_available(),
                    reason='torch.distributed with gloo is not available')
def test_dist_train_two_cpu_processes_two_phase_early_stop(tmp_path, tiny_csunet_cfg, free_port):
    from csunet.datasets.synthetic import generate_dataset
    data = generate_dataset(tmp_path / 'data', material='super', num_train=8, num_val=2,
                            num_test=1, size=(CROP, CROP), seed=0)
    base = REPO / 'configs/_base_'
    cfg = tmp_path / 'tiny_dist.py'
    cfg.write_text(CONFIG.format(
        models=str(base / 'models/csunet.py'), dataset=str(base / 'datasets/synthetic_super.py'),
        runtime=str(base / 'default_runtime.py'),
        schedule=str(base / 'schedules/nasa_two_phase.py'), data=str(data),
        model=tiny_csunet_cfg().to_dict(), crop=CROP, first_lr=FIRST_LR, second_lr=SECOND_LR,
        patience=PATIENCE, max_epochs=MAX_EPOCHS))
    work = tmp_path / 'work'
    env = dict(
        os.environ,
        PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}',
        CUDA_VISIBLE_DEVICES='',  # the CPU path, even on a GPU machine
        MASTER_ADDR='127.0.0.1', PORT=str(free_port),
        OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    proc = subprocess.run(
        ['bash', str(REPO / 'tools/dist_train.sh'), str(cfg), '2', '--work-dir', str(work)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'dist_train.sh failed ({proc.returncode}):\n{out[-8000:]}'

    # the compat fix chose gloo on both ranks (logged before the runner's logger exists)
    for rank in (0, 1):
        assert f'no CUDA on rank {rank}; initialising torch.distributed with backend "gloo"' \
            in out, out[-4000:]

    logs = sorted(work.glob('*/*_rank[01].log'))
    assert [p.name[-9:] for p in logs] == ['rank0.log', 'rank1.log'], list(work.rglob('*.log'))
    rank0, rank1 = (_parse_rank_log(p.read_text()) for p in logs)

    # --- both ranks took the same decisions at the same epoch and iteration
    assert rank0['vals'], f'no hook lines in the rank-0 log:\n{out[-4000:]}'
    assert rank0['vals'] == rank1['vals']
    scores = [v['score'] for v in rank0['vals']]
    assert len(rank0['switches']) == 1, f'expected one phase switch; mIoU per epoch {scores}'
    assert len(rank0['stops']) == 1, f'expected one stop; mIoU per epoch {scores}'
    assert rank0['switches'] == rank1['switches']
    assert rank0['stops'] == rank1['stops']
    switch_epoch, switch_iter, reloaded = rank0['switches'][0]
    stop_epoch, stop_iter = rank0['stops'][0]
    # the reload really happened on each rank, from the same file
    assert rank0['loads'] == rank1['loads'] == [reloaded]

    # --- the logged records follow the hook's rule (strict improvement, patience validations)
    vals = rank0['vals']
    assert [v['epoch'] for v in vals] == list(range(1, stop_epoch + 1))
    assert stop_epoch < MAX_EPOCHS and switch_epoch < stop_epoch
    iters_per_epoch = vals[0]['iter']
    assert [v['iter'] for v in vals] == [e * iters_per_epoch for e in range(1, stop_epoch + 1)]
    assert (switch_iter, stop_iter) == (vals[switch_epoch - 1]['iter'], vals[-1]['iter'])
    for v in vals:
        in_phase_2 = v['epoch'] > switch_epoch
        assert v['phase'] == (2 if in_phase_2 else 1)
        assert v['lr'] == pytest.approx(SECOND_LR if in_phase_2 else FIRST_LR)
    assert vals[switch_epoch - 1]['wait'] == vals[-1]['wait'] == PATIENCE
    phase1 = scores[:switch_epoch]
    best_epoch_at_switch = phase1.index(max(phase1)) + 1  # the first of equal scores: strict rule
    assert Path(reloaded).name == f'best_mIoU_epoch_{best_epoch_at_switch}.pth'

    # --- what the run reports equals what each rank logged
    records = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    val_records = [r for r in records if 'mIoU' in r]
    assert [r['step'] for r in val_records] == list(range(1, stop_epoch + 1))
    assert [r['mIoU'] for r in val_records] == pytest.approx(scores, abs=1e-4)
    train_lrs = {r['step']: r['lr'] for r in records if 'loss' in r}
    assert sorted(train_lrs) == list(range(1, stop_iter + 1))
    for it, lr in train_lrs.items():  # the lr drop took effect at the switch's iteration
        assert lr == pytest.approx(SECOND_LR if it > switch_iter else FIRST_LR), it

    def logged_state(epoch):
        v = vals[epoch - 1]
        return dict(phase=v['phase'], best_score=pytest.approx(v['best'], abs=1e-4),
                    wait_count=v['wait'], val_iter=v['iter'])

    best_epoch = scores.index(max(scores)) + 1
    assert vals[-1]['best'] == pytest.approx(max(scores), abs=1e-4)
    best = list(work.glob('best_mIoU_epoch_*.pth'))
    assert [p.name for p in best] == [f'best_mIoU_epoch_{best_epoch}.pth']
    meta = torch.load(best[0], map_location='cpu')['meta']  # csunet.compat: mmengine's types
    assert (meta['epoch'], meta['iter']) == (best_epoch, vals[best_epoch - 1]['iter'])
    assert meta['two_phase_early_stop'] == logged_state(best_epoch)

    last = Path((work / 'last_checkpoint').read_text().strip())
    assert last.name == f'epoch_{stop_epoch}.pth'
    meta = torch.load(last, map_location='cpu')['meta']
    assert (meta['epoch'], meta['iter']) == (stop_epoch, stop_iter)
    # mmengine saves the latest checkpoint after the training epoch, before validating it (and
    # again after a validation only when it is a new best): it holds the hook's state of the
    # previous validation (TwoPhaseEarlyStopHook repeats that validation on --resume).
    assert meta['two_phase_early_stop'] == logged_state(stop_epoch - 1)
