"""csunet.analysis.results (tools/misc/results_table.py): train + test every (config, seed),
tabulate, skip finished runs, never reuse a run folder made with other settings."""
import csv
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from csunet.analysis import results as tool
from csunet.datasets.synthetic import generate_dataset
from csunet.evaluation import ClassIoUMetric

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/misc/results_table.py')


def test_class_iou_metric_returns_per_class_iou():
    metric = ClassIoUMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    # (intersect, union, pred area, label area) per image, as mmseg's IoUMetric stores them.
    metric.results = [
        (torch.tensor([2., 1., 0.]), torch.tensor([4., 2., 0.]), torch.tensor([3., 1., 0.]),
         torch.tensor([3., 2., 0.])),
        (torch.tensor([2., 0., 0.]), torch.tensor([4., 1., 0.]), torch.tensor([3., 1., 0.]),
         torch.tensor([3., 0., 0.])),
    ]
    result = metric.compute_metrics(metric.results)
    assert result['IoU.a'] == 50.0 and result['IoU.b'] == pytest.approx(33.33)
    assert result['IoU.c'] != result['IoU.c']  # NaN: class c absent everywhere
    assert result['mIoU'] == pytest.approx(41.67)  # mmseg's own mean (NaN classes skipped)


def test_interrupted_run_resumes_and_failures_are_reported(tmp_path, monkeypatch):
    run_dir = tmp_path / 'out/runs/cfg/seed_3'
    run_dir.mkdir(parents=True)
    ckpt = run_dir / 'iter_4.pth'
    ckpt.write_bytes(b'')
    (run_dir / 'last_checkpoint').write_text(str(ckpt))
    config = tmp_path / 'cfg.py'
    config.write_text("test_dataloader = dict(dataset=dict(data_root='data/x/ebc1'))\n")
    calls = []

    def fake_child(cmd, log_path):
        calls.append(cmd)
        with open(log_path, 'a') as f:
            f.write('Traceback (most recent call last):\nKeyError: "bad key"\n')
        return 1, 2.5

    monkeypatch.setattr(tool, 'run_child', fake_child)
    record = tool.do_run(str(config), 3, ['train_cfg.max_iters=8'], str(tmp_path / 'out'))
    train_cmd = calls[0]
    assert '--resume' in train_cmd and 'randomness.seed=3' in train_cmd
    assert 'train_cfg.max_iters=8' in train_cmd
    assert record['status'] == 'failed' and record['reason'] == 'train: KeyError: "bad key"'
    assert record['split'] == 'ebc1' and record['train_s'] == 2.5
    missing = tool.do_run(str(tmp_path / 'nope.py'), 0, [], str(tmp_path / 'out'))
    assert missing['status'] == 'failed' and 'config not found' in missing['reason']


def test_run_folder_is_reused_only_with_its_settings(tmp_path, monkeypatch):
    config = tmp_path / 'cfg.py'
    config.write_text("test_dataloader = dict(dataset=dict(data_root='data/x/ebc1'))\n")
    out = str(tmp_path / 'out')
    run_dir = tmp_path / 'out/runs/cfg/seed_0'
    calls = []

    def fake_child(cmd, log_path):  # training writes a checkpoint; testing fails
        calls.append(cmd)
        if cmd[1].endswith('train.py'):
            ckpt = run_dir / 'iter_2.pth'
            torch.save(dict(meta=dict(iter=2, epoch=1)), ckpt)
            (run_dir / 'last_checkpoint').write_text(str(ckpt))
            return 0, 1.0
        with open(log_path, 'a') as f:
            f.write('RuntimeError: out of memory\n')
        return 1, 1.0

    monkeypatch.setattr(tool, 'run_child', fake_child)
    first = tool.do_run(str(config), 0, ['a=1'], out)
    assert first['status'] == 'failed' and first['reason'] == 'test: RuntimeError: out of memory'
    saved = (run_dir / 'result.json').read_text()
    assert json.loads(saved)['settings']['options'] == ['a=1']
    # A run with a checkpoint is not resumed with another budget, nor is its folder touched.
    other = tool.do_run(str(config), 0, ['a=2', 'b=1'], out)
    assert other['status'] == 'failed' and len(calls) == 2
    assert 'interrupted run made with other settings: --cfg-options differ (only then: a=1; ' \
        'only now: a=2 b=1); use another -o' in other['reason']
    assert (run_dir / 'result.json').read_text() == saved

    # Finished: skipped with the same settings, refused with others or an edited config.
    state = json.loads(saved)
    state.update(status='ok', metrics=dict(nasa_iou=50.0))
    (run_dir / 'result.json').write_text(json.dumps(state))
    assert tool.do_run(str(config), 0, ['a=1'], out)['skipped']
    assert tool.settings_change(dict(options=['a=1', 'b=2'], config_sha256='x'),
                                dict(options=['b=2', 'a=1'], config_sha256='x')) == \
        '--cfg-options given in another order'  # the last of two equal keys wins
    config.write_text("test_dataloader = dict(dataset=dict(data_root='data/x/ebc2'))\n")
    edited = tool.do_run(str(config), 0, ['a=1'], out)
    assert edited['status'] == 'failed' and 'finished run' in edited['reason']
    assert edited['reason'].endswith('the config differs; use another -o, or delete that '
                                     'folder to redo the run')
    assert 'metrics' not in edited and len(calls) == 2
    # The command refuses up front: nothing runs, no table is written.
    (tmp_path / 'out/results.md').write_text('earlier table')
    records, problems = tool.run_table([str(config)], [1, 0], [], out)
    assert records == [] and len(problems) == 1
    assert 'seed_0 holds a finished run' in problems[0] and 'seed_1' not in problems[0]
    cli = subprocess.run([sys.executable, TOOL, str(config), '--seeds', '1', '0', '-o', out],
                         capture_output=True, text=True, cwd=REPO)
    assert cli.returncode == 2
    assert f'error: {out} holds runs made with other settings; nothing was run:' in cli.stderr
    assert (tmp_path / 'out/results.md').read_text() == 'earlier table' and len(calls) == 2
    assert (run_dir / 'result.json').read_text() == json.dumps(state)
    # A run folder written before settings were recorded is taken as is.
    state.pop('settings')
    (run_dir / 'result.json').write_text(json.dumps(state))
    assert tool.do_run(str(config), 0, ['c=3'], out)['skipped']

    # A run that failed before its first checkpoint starts again with the new settings.
    for f in run_dir.iterdir():
        f.unlink()
    (run_dir / 'result.json').write_text(json.dumps(dict(
        status='failed', train_s=9.0, settings=dict(options=['a=1'], config_sha256='x'))))
    retried = tool.do_run(str(config), 0, ['a=2'], out)
    assert calls[-2][-2:] == ['randomness.seed=0', 'a=2'] and '--resume' not in calls[-2]
    assert retried['train_s'] == 1.0 and retried['settings']['options'] == ['a=2']
    # A config that does not parse fails its own runs only.
    bad = tmp_path / 'bad.py'
    bad.write_text('model = dict(\n')
    record = tool.do_run(str(bad), 0, [], out)
    assert record['status'] == 'failed' and record['reason'].startswith(f'config {bad}: ')


def test_a_checkout_without_the_train_and_test_tools_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tool, 'ROOT', str(tmp_path))  # as in a non-editable install
    with pytest.raises(FileNotFoundError, match=r'tools/train\.py or .* installed editable'):
        tool.run_table([str(tmp_path / 'cfg.py')], [0], [], str(tmp_path / 'out'))
    assert not list(tmp_path.iterdir())  # nothing written


def _write_run(run_dir, attempts, config_text):
    """A run directory as mmengine leaves it: the dumped config and, per attempt (a resume
    starts a new one), ``vis_data/scalars.json``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / 'tiny.py').write_text(config_text)
    for attempt, entries in attempts.items():
        folder = run_dir / attempt / 'vis_data'
        folder.mkdir(parents=True)
        (folder / 'scalars.json').write_text(''.join(json.dumps(e) + '\n' for e in entries))
    return str(run_dir)


def test_run_curves_place_epoch_validations_at_their_last_iteration(tmp_path):
    # Epoch-based run (3 iterations an epoch, validation every 2 epochs, logged by epoch),
    # split over two attempts (a resume).
    train = [dict(loss=1.0 / i, iter=i, epoch=(i - 1) // 3 + 1, step=i) for i in range(1, 13)]
    val = [dict(nasa_iou=10.0 * e, mIoU=5.0 * e, step=e) for e in (2, 4)]
    epoch_loop = "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_interval=2)\n"
    run = _write_run(tmp_path / 'by_epoch', {'20260101_000000': train[:6] + val[:1],
                                             '20260101_010000': train[6:] + val[1:]}, epoch_loop)
    assert tool.validation_steps_are_epochs(run)
    (its, losses), (val_its, values) = tool.run_curves(run, 'nasa_iou')
    assert its.tolist() == list(range(1, 13)) and losses[3] == 0.25
    assert val_its.tolist() == [6, 12] and values.tolist() == [20.0, 40.0]
    # The same loop with metrics logged by iteration: a validation after iteration 3 (step 3)
    # stays there, though epoch 3 exists (its last iteration is 9).
    run = _write_run(tmp_path / 'by_iter', {'a': train + [dict(nasa_iou=50.0, step=3)]},
                     epoch_loop + 'default_hooks = dict(logger=dict(log_metric_by_epoch=False))\n')
    assert not tool.validation_steps_are_epochs(run)
    (_, _), (val_its, values) = tool.run_curves(run, 'nasa_iou')
    assert val_its.tolist() == [3] and values.tolist() == [50.0]
    # Iteration-based loop (mmengine's `by_epoch=False`): steps are iterations.
    entries = [dict(loss=1.0, iter=i, epoch=1, step=i) for i in range(1, 9)]
    entries += [dict(nasa_iou=50.0, step=4), dict(nasa_iou=60.0, step=8)]
    run = _write_run(tmp_path / 'iter_loop', {'a': entries},
                     'train_cfg = dict(by_epoch=False, max_iters=8, val_interval=4)\n')
    assert not tool.validation_steps_are_epochs(run)
    (_, _), (val_its, values) = tool.run_curves(run, 'nasa_iou')
    assert val_its.tolist() == [4, 8] and values.tolist() == [50.0, 60.0]


def _fake_runs(monkeypatch):
    """Replace the train/test processes by writers of what they leave: a checkpoint, and the
    metrics JSON of the test (seed- and config-dependent numbers), or a failure for a config
    whose name says so."""
    calls = []

    def fake_child(cmd, log_path):
        calls.append(cmd)
        run_dir = osp.dirname(log_path)
        seed = int(next(o for o in cmd if o.startswith('randomness.seed=')).split('=')[1])
        if 'broken' in cmd[2]:
            with open(log_path, 'a') as f:
                f.write("KeyError: 'depths=huge: use one of [...]'\n")
            return 1, 0.5
        if cmd[1].endswith('train.py'):
            ckpt = osp.join(run_dir, 'best_mIoU_iter_2.pth')
            torch.save(dict(meta=dict(iter=2, epoch=1)), ckpt)
            with open(osp.join(run_dir, 'last_checkpoint'), 'w') as f:
                f.write(ckpt)
            return 0, 3.0
        test_dir = osp.join(cmd[cmd.index('--work-dir') + 1], '20260101_000000')
        os.makedirs(test_dir, exist_ok=True)
        score = 40.0 + 10 * seed + (5 if 'tiny_b' in cmd[2] else 0)
        with open(osp.join(test_dir, '20260101_000000.json'), 'w') as f:
            f.write(json.dumps(dict(nasa_iou=score, mIoU=score / 2, step=2)) + '\n')
        return 0, 1.0

    monkeypatch.setattr(tool, 'run_child', fake_child)
    return calls


def test_two_configs_two_seeds_tabulated_then_rerun_skips(tmp_path, monkeypatch):
    """The bookkeeping of a table (process launches faked: see the slow test for real ones)."""
    calls = _fake_runs(monkeypatch)
    base = "test_dataloader = dict(dataset=dict(data_root='data/x/super1'))\n"
    configs = []
    for name in ('tiny_a', 'tiny_b', 'tiny_broken'):
        (tmp_path / f'{name}.py').write_text(base)
        configs.append(str(tmp_path / f'{name}.py'))
    out = str(tmp_path / 'out')
    lines = []
    records, problems = tool.run_table(configs, [0, 1], ['a=1'], out, log=lines.append)
    assert problems == [] and len(records) == 6
    assert [c[-2:] for c in calls if c[1].endswith('train.py')][:2] == [
        ['randomness.seed=0', 'a=1'], ['randomness.seed=1', 'a=1']]
    with open(osp.join(out, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [(r['config'], r['seed'], r['status']) for r in rows] == [
        ('tiny_a', '0', 'ok'), ('tiny_a', '1', 'ok'), ('tiny_b', '0', 'ok'), ('tiny_b', '1', 'ok'),
        ('tiny_broken', '0', 'failed'), ('tiny_broken', '1', 'failed')]
    assert [float(r['nasa_iou']) for r in rows[:4]] == [40.0, 50.0, 45.0, 55.0]
    assert rows[0]['iterations'] == '2' and rows[0]['split'] == 'super1'
    assert rows[0]['checkpoint'] == 'best_mIoU_iter_2.pth'
    assert "KeyError: 'depths=huge" in rows[4]['reason']
    md = open(osp.join(out, 'results.md')).read()
    assert '## super1' in md and '`tiny_a` | 0, 1 (2/2) | 45.00 ± 7.07' in md
    assert '## Failed runs' in md and '`tiny_broken` | 0 |' in md
    assert '96.43' in md  # the published CS-UNet IoU of the split beside it
    assert open(osp.join(out, 'curves.png'), 'rb').read()[:8] == b'\x89PNG\r\n\x1a\n'
    assert lines[0] == '[1/6] tiny_a seed 0: running' and 'nasa_iou 40.00' in lines[1]

    # Rerun: finished runs are skipped, the failed ones are retried (and fail again).
    launched = len(calls)
    records, _ = tool.run_table(configs, [0, 1], ['a=1'], out, log=lines.append)
    assert sum(bool(r.get('skipped')) for r in records) == 4
    assert len(calls) == launched + 2 and all('broken' in c[2] for c in calls[launched:])
    with open(osp.join(out, 'results.csv')) as f:
        assert list(csv.DictReader(f))[:4] == rows[:4]


@pytest.mark.slow
def test_real_run_end_to_end_then_rerun_skips(tmp_path, monkeypatch):
    """The command on a real (tiny) training and test and a real failure: the metrics, the
    curves, the reason; then the finished run is skipped (in-process: nothing is launched)."""
    root = generate_dataset(tmp_path / 'data', 'super', num_train=4, num_val=2, num_test=2,
                            size=(64, 64))
    base = osp.join(REPO, 'configs/csunet/csunet_tiny_synthetic.py')
    tiny = tmp_path / 'tiny_a.py'
    tiny.write_text(f"_base_ = '{base}'\nmodel = dict(backbone=dict(swin=dict(embed_dims=32, "
                    "depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8))))\n")
    broken = tmp_path / 'tiny_broken.py'
    broken.write_text(f"_base_ = '{base}'\nmodel = dict(backbone=dict(swin=dict(depths='huge')))\n")
    options = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler=[]',
               'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
               'train_dataloader.batch_size=2'] + [
                   f'{d}_dataloader.dataset.data_root={root}' for d in ('train', 'val', 'test')]
    out = tmp_path / 'out'
    cmd = [sys.executable, TOOL, str(tiny), str(broken), '--seeds', '0', '-o', str(out),
           '--cfg-options', *options]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=1200)
    assert first.returncode == 1, first.stdout + first.stderr  # the broken config failed
    assert '(1 ok, 1 failed)' in first.stdout, first.stdout

    with open(out / 'results.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['config'], r['seed'], r['status']) for r in rows] == [
        ('tiny_a', '0', 'ok'), ('tiny_broken', '0', 'failed')]
    r = rows[0]
    assert r['iterations'] == '2' and float(r['train_s']) > 0 and float(r['test_s']) > 0
    for metric in ('nasa_iou', 'mIoU', 'IoU.matrix', 'IoU.secondary', 'IoU.tertiary'):
        assert 0 <= float(r[metric]) <= 100, (metric, r)
    assert r['split'] == 'synthetic_super' and r['checkpoint'].endswith('.pth')
    assert rows[1]['reason'].startswith("train: KeyError: \"depths='huge'")
    md = (out / 'results.md').read_text()
    assert '## synthetic_super' in md and f"`tiny_a` | 0 (1/1) | {float(r['nasa_iou']):.2f}" in md

    # One loss and one validation curve per finished run (2 iterations: the moving average has
    # nothing to show, the figure is still written), as a PNG.
    assert (out / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    (its, losses), (val_its, values) = tool.run_curves(str(out / 'runs/tiny_a/seed_0'),
                                                       'nasa_iou')
    assert its.tolist() == [1, 2] and all(0 < v < 10 for v in losses)
    assert val_its.tolist() == [2] and 0 <= values[0] <= 100

    # Rerun: the result.json of the real run is recognised as finished with the same settings.
    # (Retrying failed runs: test_two_configs_two_seeds_tabulated_then_rerun_skips.)
    launched = []
    monkeypatch.setattr(tool, 'run_child', lambda cmd, log_path: launched.append(cmd))
    lines = []
    records, problems = tool.run_table([str(tiny)], [0], options, str(out), log=lines.append)
    assert problems == [] and launched == [] and records[0]['skipped']
    assert lines[1] == '[1/1] tiny_a seed 0: finished before, skipped'
    with open(out / 'results.csv') as f:
        assert list(csv.DictReader(f)) == rows[:1]
