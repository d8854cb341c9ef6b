"""Train and test every (config, seed) and tabulate the test metrics over seeds.

The logic of ``tools/misc/results_table.py`` (the command line)::

    python tools/misc/results_table.py CONFIG [CONFIG ...] --seeds 0 1 -o OUT_DIR \
        [--cfg-options KEY=VALUE ...]

Each run goes through the project's own ``tools/train.py`` and ``tools/test.py`` (one process
each, so a crash or out-of-memory in one run does not stop the others), in
``OUT_DIR/runs/<config name>/seed_<seed>/`` with mmengine's ``randomness.seed`` set to the seed.
``--cfg-options`` applies to every run, training and test alike (e.g. a CPU budget of a GPU
recipe: ``train_cfg.max_epochs=30 train_dataloader.batch_size=4``).

The tested checkpoint is the best one the config keeps (``best_*.pth``, e.g. ``best_mIoU_*``),
else the last one. mmseg's ``IoUMetric`` is run as :class:`csunet.evaluation.ClassIoUMetric`
(same numbers, plus per-class IoU in the result instead of only in the log).

Outputs (rewritten atomically after every run, so they always describe what has finished):

* ``OUT_DIR/results.csv``: one row per run: config, seed, status (``ok``/``failed``), reason,
  split, checkpoint, iterations and epochs run, train and test seconds (wall time of the
  attempts that ended, summed over resumes), then every test metric (``nasa_iou``, ``mIoU``,
  ``IoU.<class>``, ...);
* ``OUT_DIR/results.md``: per split, per config, mean ± sample std over the finished seeds of
  each metric, with the published CS-UNet IoU (:mod:`csunet.evaluation.published`) beside it;
  failed runs with their reason;
* ``OUT_DIR/curves.png``: the training loss (moving average over 5 iterations) and, where the
  runs validated, the validation ``nasa_iou`` (``mIoU`` without it) of every run against the
  iteration (one colour per config, one line per seed), to see whether a budget was long enough
  for the curves to flatten.

Rerunning the same command skips finished runs (``result.json`` with status ``ok``), resumes an
interrupted one from its last checkpoint (``--resume``) and retries failed ones. A run folder is
reused only with the settings it was made with (the ``--cfg-options`` and the merged config,
recorded in ``result.json`` when the run starts): if ``OUT_DIR`` holds a finished or interrupted
run made with others, the command runs nothing, changes nothing and says what differs (exit
status 2), so a table never mixes budgets; pick another ``OUT_DIR``, or delete that run folder to
redo it. A run that failed before its first checkpoint is retried with the new settings. Per-run
logs: ``train.out`` / ``test.out`` in the run folder.
"""
import argparse
import csv
import glob
import hashlib
import io
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import OrderedDict, defaultdict
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from mmengine.config import Config, DictAction

from ..evaluation import published_iou
from ..fileio import write_bytes_atomic, write_text_atomic

#: The checkout whose ``tools/train.py`` and ``tools/test.py`` run each job (``projects/csunet/
#: analysis/`` -> the repository).
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
FIXED_COLUMNS = ['config', 'seed', 'status', 'reason', 'split', 'checkpoint', 'iterations',
                 'epochs', 'train_s', 'test_s']
#: Metrics shown first, in this order; others follow alphabetically.
LEADING_METRICS = ['nasa_iou', 'mIoU']
#: Numbers mmengine logs beside the metrics that are not metrics.
NOT_METRICS = ('step', 'time', 'data_time', 'memory')


def parse_cfg_options(options: List[str]) -> dict:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o if options else {}


def run_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def split_of(cfg: Config) -> Optional[str]:
    """Name of the test split: the last folder of the test data root (``.../super1``)."""
    try:
        root = cfg.test_dataloader.dataset.data_root
    except AttributeError:
        return None
    return osp.basename(osp.normpath(str(root))) if root else None


def class_iou_options(cfg: Config) -> List[str]:
    """Overrides that run mmseg's IoUMetric as ClassIoUMetric (per-class IoU in the result)."""
    evaluator = cfg.get('test_evaluator')
    if isinstance(evaluator, dict) and evaluator.get('type') == 'IoUMetric':
        return ['test_evaluator.type=ClassIoUMetric']
    if isinstance(evaluator, (list, tuple)):
        return [f'test_evaluator.{i}.type=ClassIoUMetric' for i, ev in enumerate(evaluator)
                if isinstance(ev, dict) and ev.get('type') == 'IoUMetric']
    return []


def error_reason(log_path: str, returncode: int) -> str:
    """The last error line of a child's log, else its exit status."""
    try:
        with open(log_path, errors='replace') as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        lines = []
    for line in reversed(lines[-200:]):
        head = line.split(':', 1)[0]
        if head.endswith(('Error', 'Exception', 'Interrupt')) or line.startswith(
                ('train.py:', 'test.py:')):
            return line[:300]
    return f'exit status {returncode}' + (f': {lines[-1][:200]}' if lines else '')


def run_child(cmd: List[str], log_path: str) -> tuple:
    """Run ``cmd`` with its output appended to ``log_path``; ``(returncode, seconds)``."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    start = time.perf_counter()
    with open(log_path, 'a') as log:
        log.write(f'\n$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    return proc.returncode, time.perf_counter() - start


def checkpoint_to_test(run_dir: str) -> Optional[str]:
    best = sorted(glob.glob(osp.join(run_dir, 'best_*.pth')), key=osp.getmtime)
    if best:
        return best[-1]
    return last_checkpoint(run_dir)


def last_checkpoint(run_dir: str) -> Optional[str]:
    marker = osp.join(run_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        path = f.read().strip()
    return path if osp.isfile(path) else None


def progress_of(checkpoint: Optional[str]) -> Dict[str, Optional[int]]:
    """Iterations and epochs the training loop had run when ``checkpoint`` was saved."""
    if checkpoint is None:
        return dict(iterations=None, epochs=None)
    import torch
    meta = torch.load(checkpoint, map_location='cpu', weights_only=True).get('meta', {})
    return dict(iterations=meta.get('iter'), epochs=meta.get('epoch'))


def test_metrics(test_dir: str) -> Dict[str, float]:
    """Metrics of the newest test run: mmengine writes them to ``<timestamp>/<timestamp>.json``."""
    logs = sorted(glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    if not logs:
        raise FileNotFoundError(f'no metrics JSON under {test_dir}')
    with open(logs[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return {k: v for k, v in lines[-1].items()
            if isinstance(v, (int, float)) and k not in NOT_METRICS}


def load_state(run_dir: str) -> dict:
    path = osp.join(run_dir, 'result.json')
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    return {}


def save_state(run_dir: str, state: dict) -> None:
    write_text_atomic(osp.join(run_dir, 'result.json'), json.dumps(state, indent=1))


def run_settings(cfg: Config, options: List[str]) -> dict:
    """What a run folder is made with: a sha256 of the merged config (so an edited config, or
    another config of the same file name, counts; comments do not) and the ``--cfg-options`` as
    given."""
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
    return dict(options=list(options), config_sha256=hashlib.sha256(text.encode()).hexdigest())


def settings_change(old: dict, new: dict) -> str:
    """How ``new`` settings differ from ``old`` ones, in words; '' when they are the same."""
    if old['options'] != new['options']:
        then = [o for o in old['options'] if o not in new['options']]
        now = [o for o in new['options'] if o not in old['options']]
        if not then and not now:
            return '--cfg-options given in another order'
        return (f"--cfg-options differ (only then: {' '.join(then) or '-'}; "
                f"only now: {' '.join(now) or '-'})")
    if old['config_sha256'] != new['config_sha256']:
        return 'the config differs'
    return ''


def run_dir_of(config: str, seed: int, out_dir: str) -> str:
    return osp.join(out_dir, 'runs', run_name(config), f'seed_{seed}')


def load_run_config(config: str, options: List[str]) -> Tuple[Optional[Config], str]:
    """The merged config of a run, or None and why there is none (a config that is missing or
    does not parse fails its own runs, not the others)."""
    if not osp.isfile(config):
        return None, f'config not found: {config}'
    try:
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(parse_cfg_options(options))
    except Exception as e:
        return None, f'config {config}: {type(e).__name__}: {e}'[:300]
    return cfg, ''


def reuse_problem(run_dir: str, state: dict, config: str, settings: dict) -> str:
    """Why the run folder cannot serve ``settings``: it holds a finished or interrupted run
    made with other ones (neither skipped, a stale result, nor resumed, a budget changed
    halfway); '' when it can. Folders written before settings were recorded are taken as made
    with the same ones."""
    change = settings_change(state['settings'], settings) if 'settings' in state else ''
    if not change or (state.get('status') != 'ok' and last_checkpoint(run_dir) is None):
        return ''
    done = 'finished' if state.get('status') == 'ok' else 'interrupted'
    made_from = f" (made from {state['config']})" if state.get('config') != config else ''
    return (f'{run_dir} holds a {done} run made with other settings{made_from}: {change}; use '
            'another -o, or delete that folder to redo the run')


def do_run(config: str, seed: int, options: List[str], out_dir: str) -> dict:
    """Train (or resume) and test one run; returns its result record (also in result.json)."""
    run_dir = run_dir_of(config, seed, out_dir)
    failed = dict(config=config, seed=seed, status='failed')
    cfg, reason = load_run_config(config, options)
    if cfg is None:
        return dict(failed, reason=reason)
    settings = run_settings(cfg, options)
    state = load_state(run_dir)
    problem = reuse_problem(run_dir, state, config, settings)
    if problem:  # the folder is left as it is
        return dict(failed, split=split_of(cfg), reason=problem)
    if state.get('status') == 'ok':
        state['skipped'] = True
        return state
    if state.get('settings', settings) != settings:
        state = {}  # failed before its first checkpoint: start again with the new settings
    os.makedirs(run_dir, exist_ok=True)
    state.update(config=config, seed=seed, status='running', reason='', settings=settings,
                 split=split_of(cfg))
    state.setdefault('train_s', 0.)
    state.setdefault('test_s', 0.)
    save_state(run_dir, state)  # so an interrupted run knows what it was made with
    opts = [f'randomness.seed={seed}'] + list(options)

    train = [sys.executable, osp.join(ROOT, 'tools/train.py'), config, '--work-dir', run_dir,
             '--cfg-options', *opts]
    if last_checkpoint(run_dir) is not None:
        train.append('--resume')
    rc, seconds = run_child(train, osp.join(run_dir, 'train.out'))
    state['train_s'] += seconds
    if rc != 0:
        state.update(status='failed', reason='train: ' + error_reason(
            osp.join(run_dir, 'train.out'), rc))
        save_state(run_dir, state)
        return state

    checkpoint = checkpoint_to_test(run_dir)
    if checkpoint is None:
        state.update(status='failed', reason=f'train: no checkpoint in {run_dir}')
        save_state(run_dir, state)
        return state
    state['checkpoint'] = osp.relpath(checkpoint, run_dir)
    state.update(progress_of(last_checkpoint(run_dir)))
    test_dir = osp.join(run_dir, 'test')
    test = [sys.executable, osp.join(ROOT, 'tools/test.py'), config, checkpoint, '--work-dir',
            test_dir, '--cfg-options', *opts, *class_iou_options(cfg)]
    rc, seconds = run_child(test, osp.join(run_dir, 'test.out'))
    state['test_s'] += seconds
    if rc != 0:
        state.update(status='failed', reason='test: ' + error_reason(
            osp.join(run_dir, 'test.out'), rc))
    else:
        try:
            state['metrics'] = test_metrics(test_dir)
            state['status'] = 'ok'
        except (OSError, ValueError) as e:
            state.update(status='failed', reason=f'test: {e}')
    save_state(run_dir, state)
    return state


def metric_columns(records: List[dict]) -> List[str]:
    names = {k for r in records for k in r.get('metrics', {})}
    return [m for m in LEADING_METRICS if m in names] + sorted(names - set(LEADING_METRICS))


def write_csv(records: List[dict], path: str) -> None:
    metrics = metric_columns(records)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(FIXED_COLUMNS + metrics)
    for r in records:
        row = [r.get(c, '') for c in FIXED_COLUMNS]
        row[FIXED_COLUMNS.index('config')] = run_name(r['config'])
        for c in ('train_s', 'test_s'):
            i = FIXED_COLUMNS.index(c)
            row[i] = f'{row[i]:.1f}' if isinstance(row[i], float) else row[i]
        row += [r.get('metrics', {}).get(m, '') for m in metrics]
        writer.writerow(['' if v is None else v for v in row])
    write_text_atomic(path, buf.getvalue())


def mean_std(values: List[float]) -> str:
    values = [v for v in values if v is not None and not np.isnan(v)]
    if not values:
        return '—'
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}'


def write_markdown(records: List[dict], options: List[str], path: str) -> None:
    lines = ['# Results', '',
             'Mean ± sample standard deviation over the finished seeds (test split, %). '
             '`nasa_iou` is the IoU of the paper\'s tables (NASA\'s definition); the published '
             'CS-UNet IoU is given beside it (microscopy-pretrained / ImageNet-pretrained).', '']
    if options:
        lines += ['Overrides applied to every run: `' + ' '.join(options) + '`', '']
    by_split: Dict[str, List[dict]] = defaultdict(list)
    for r in records:
        by_split[r.get('split') or '?'].append(r)
    for split, group in by_split.items():
        ok = [r for r in group if r.get('status') == 'ok']
        metrics = metric_columns(ok)
        pub = published_iou(split)
        lines += [f'## {split}', '']
        header = (['config', 'seeds'] + metrics
                  + ['published CS-UNet IoU', 'iterations', 'train s / run'])
        lines.append('| ' + ' | '.join(header) + ' |')
        lines.append('|' + '---|' * len(header))
        configs = OrderedDict((r['config'], None) for r in group)
        for config in configs:
            runs = [r for r in ok if r['config'] == config]
            n_all = len([r for r in group if r['config'] == config])
            seeds = ', '.join(str(r['seed']) for r in runs)
            row = [f'`{run_name(config)}`', f'{seeds} ({len(runs)}/{n_all})']
            row += [mean_std([r['metrics'].get(m) for r in runs]) for m in metrics]
            row.append(f"{pub['microscopy']} / {pub['imagenet']}" if pub else '—')
            iters = sorted({r.get('iterations') for r in runs if r.get('iterations') is not None})
            row.append(', '.join(map(str, iters)) or '—')
            row.append(f"{np.mean([r['train_s'] for r in runs]):.0f}" if runs else '—')
            lines.append('| ' + ' | '.join(row) + ' |')
        lines.append('')
    failed = [r for r in records if r.get('status') != 'ok']
    if failed:
        lines += ['## Failed runs', '', '| config | seed | reason |', '|---|---|---|']
        lines += [f"| `{run_name(r['config'])}` | {r['seed']} | {r.get('reason', '')} |"
                  for r in failed]
        lines.append('')
    write_text_atomic(path, '\n'.join(lines))


def _scalars(run_dir: str) -> Iterator[dict]:
    """Entries of mmengine's ``vis_data/scalars.json`` over every attempt of a run."""
    for path in sorted(glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                yield json.loads(line)


def validation_steps_are_epochs(run_dir: str) -> bool:
    """Whether mmengine logged the validation metrics of the run in ``run_dir`` against the epoch
    (their ``step``) rather than the iteration: its ``LoggerHook.log_metric_by_epoch`` (mmengine's
    default True) in an epoch-based training loop. Read from the config the runner dumped into
    ``run_dir`` (``--cfg-options`` included); False when there is none."""
    dumped = glob.glob(osp.join(run_dir, '*.py'))
    if len(dumped) != 1:
        return False
    cfg = Config.fromfile(dumped[0], import_custom_modules=False)
    loop = cfg.get('train_cfg') or {}
    # mmengine's Runner: the loop's `type`, else `by_epoch` picks EpochBased / IterBased.
    loop_type = loop.get('type') or ('EpochBasedTrainLoop' if loop.get('by_epoch')
                                     else 'IterBasedTrainLoop')
    logger = (cfg.get('default_hooks') or {}).get('logger') or {}
    return loop_type == 'EpochBasedTrainLoop' and logger.get('log_metric_by_epoch', True)


def run_curves(run_dir: str, metric: str) -> Tuple[tuple, tuple]:
    """``((iterations, losses), (iterations, metric values))`` of a run: its training loss and
    its validation ``metric``, over every attempt (resumes continue the iteration count).

    Validation entries whose step is an epoch (:func:`validation_steps_are_epochs`) are placed
    at that epoch's last iteration (mmengine always logs the last iteration of an epoch).
    """
    losses, values, last_iter_of_epoch = {}, {}, {}
    for entry in _scalars(run_dir):
        if 'loss' in entry and 'iter' in entry:
            losses[entry['iter']] = entry['loss']
            if 'epoch' in entry:
                last_iter_of_epoch[entry['epoch']] = max(
                    entry['iter'], last_iter_of_epoch.get(entry['epoch'], 0))
        elif metric in entry and 'step' in entry:
            values[entry['step']] = entry[metric]
    if values and validation_steps_are_epochs(run_dir):
        values = {last_iter_of_epoch[e]: v for e, v in values.items() if e in last_iter_of_epoch}
    return tuple((np.asarray(sorted(d)), np.asarray([d[i] for i in sorted(d)]))
                 for d in (losses, values))


def _save_png(fig, path: str) -> None:
    """Lay out, write ``fig`` to ``path`` as a PNG (atomically) and close it."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=100)
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())


def plot_curves(records: List[dict], out_dir: str, path: str, window: int = 5) -> None:
    """Training loss (top row) and validation ``nasa_iou`` or, without it, ``mIoU`` (bottom
    row, where the runs validated) against the iteration, one column per split."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    splits = OrderedDict((r.get('split') or '?', None) for r in records)
    fig, axes = plt.subplots(2, len(splits), figsize=(6 * len(splits), 8), squeeze=False)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for col, split in enumerate(splits):
        loss_ax, val_ax = axes[0][col], axes[1][col]
        configs = list(OrderedDict((r['config'], None) for r in records
                                   if (r.get('split') or '?') == split))
        metric = 'nasa_iou' if any('nasa_iou' in r.get('metrics', {}) for r in records
                                   if (r.get('split') or '?') == split) else 'mIoU'
        for i, config in enumerate(configs):
            for n, r in enumerate(r for r in records if r['config'] == config):
                (its, losses), (val_its, values) = run_curves(
                    run_dir_of(config, r['seed'], out_dir), metric)
                style = dict(color=colours[i % len(colours)], alpha=0.9 if n == 0 else 0.5,
                             label=run_name(config) if n == 0 else None)
                if len(its) >= window:
                    smooth = np.convolve(losses, np.ones(window) / window, mode='valid')
                    loss_ax.plot(its[window - 1:], smooth, **style)
                if len(val_its):
                    val_ax.plot(val_its, values, marker='o', **style)
        loss_ax.set(title=f'{split}: training loss (moving average of {window})',
                    xlabel='iteration', ylabel='loss')
        val_ax.set(title=f'{split}: validation {metric}', xlabel='iteration', ylabel=metric)
        for ax in (loss_ax, val_ax):
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
    _save_png(fig, path)


def plot_pretraining(run_dirs: List[str], path: str, window: int = 10) -> None:
    """Self-supervised pretraining runs (``configs/pretrain/``), one column each: the training
    loss (moving average of ``window``) with the held-out loss of ``SelfSupHeldOutHook`` (top),
    and, where logged, the held-out embedding std against its ``1/sqrt(d)`` reference (bottom;
    collapse drives it to 0)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(run_dirs), figsize=(6 * len(run_dirs), 7), squeeze=False)
    for col, run_dir in enumerate(run_dirs):
        name = osp.basename(osp.normpath(run_dir))
        loss_ax, std_ax = axes[0][col], axes[1][col]
        (its, losses), (held_its, held) = run_curves(run_dir, 'heldout/loss')
        # Entries are logged every `logger.interval` iterations: keep >= 10 points on the curve.
        w = max(1, min(window, len(its) // 10))
        if len(its):
            smooth = np.convolve(losses, np.ones(w) / w, mode='valid')
            loss_ax.plot(its[w - 1:], smooth, label=f'training (moving average of {w} logs)')
        if len(held_its):
            loss_ax.plot(held_its, held, marker='o', label='held-out tiles')
        loss_ax.set(title=f'{name}: loss', xlabel='iteration', ylabel='loss')
        _, (std_its, std) = run_curves(run_dir, 'heldout/embedding_std')
        _, (_, ref) = run_curves(run_dir, 'heldout/embedding_std_ref')
        if len(std_its):
            std_ax.plot(std_its, std, marker='o', label='held-out embedding std')
            std_ax.axhline(ref[-1], color='grey', linestyle='--', label='1/sqrt(d) (no collapse)')
            std_ax.set_ylim(bottom=0)
            std_ax.set(title=f'{name}: embedding spread', xlabel='iteration', ylabel='std')
        else:
            std_ax.set_axis_off()
        for ax in (loss_ax, std_ax):
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
    _save_png(fig, path)


def check_reuse(config: str, seed: int, options: List[str], out_dir: str) -> str:
    """:func:`reuse_problem` of one job, before anything runs ('' for a config that is missing
    or does not parse: :func:`do_run` reports those as failed runs)."""
    run_dir = run_dir_of(config, seed, out_dir)
    state = load_state(run_dir)
    if 'settings' not in state:
        return ''
    cfg, _ = load_run_config(config, options)
    if cfg is None:
        return ''
    return reuse_problem(run_dir, state, config, run_settings(cfg, options))


def run_table(configs: List[str], seeds: List[int], options: List[str], out_dir: str,
              log=print) -> Tuple[List[dict], List[str]]:
    """Train and test every (config, seed) into ``out_dir`` and write the tables after every run;
    ``(records, problems)``. With ``problems`` (runs in ``out_dir`` made with other settings)
    nothing is run and nothing written. ``log`` receives one progress line per event.
    FileNotFoundError when the checkout's ``tools/train.py`` / ``tools/test.py`` are not at
    :data:`ROOT`."""
    scripts = [osp.join(ROOT, 'tools', name) for name in ('train.py', 'test.py')]
    if not all(osp.isfile(path) for path in scripts):
        # ROOT is the checkout only when csunet is installed editable from it (pip install -e .)
        raise FileNotFoundError(f'{scripts[0]} or {scripts[1]} missing: the runs need the '
                                'repository\'s tools/, so csunet must be installed editable '
                                'from its checkout')
    jobs = [(c, s) for c in configs for s in seeds]
    problems = [p for p in (check_reuse(c, s, options, out_dir) for c, s in jobs) if p]
    if problems:
        return [], problems
    os.makedirs(out_dir, exist_ok=True)
    records = []
    for k, (config, seed) in enumerate(jobs, 1):
        tag = f'[{k}/{len(jobs)}] {run_name(config)} seed {seed}'
        log(f'{tag}: running')
        record = do_run(config, seed, options, out_dir)
        records.append(record)
        if record.get('skipped'):
            status = 'finished before, skipped'
        elif record['status'] == 'ok':
            status = (f"ok in {record['train_s']:.0f} s + {record['test_s']:.0f} s, nasa_iou "
                      f"{record['metrics'].get('nasa_iou', float('nan')):.2f}, mIoU "
                      f"{record['metrics'].get('mIoU', float('nan')):.2f}")
        else:
            status = f"FAILED: {record.get('reason')}"
        log(f'{tag}: {status}')
        write_csv(records, osp.join(out_dir, 'results.csv'))
        write_markdown(records, options, osp.join(out_dir, 'results.md'))
    plot_curves(records, out_dir, osp.join(out_dir, 'curves.png'))
    return records, []
