"""TwoPhaseEarlyStopHook driven by a real mmengine Runner on a toy model with scripted scores."""
import copy
import os.path as osp
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmseg.registry import HOOKS
from torch.utils.data import DataLoader, Dataset

import csunet  # noqa: F401  (registries; conftest.py applied csunet.compat before any mmseg import)
from csunet.engine import TwoPhaseEarlyStopHook

PATIENCE = 2
SECOND_LR = 1e-5
FIRST_LR = 0.05
# epoch:    1  2  3  4    5    6  7  8
SCORES = [1.0, 3.0, 2.0, 3.0, 2.5, 4.0, 1.0, 1.0]
# 1: best; 2: best (phase-1 best weights); 3: wait 1; 4: equal -> wait 2 -> phase 2 (reload 2)
# 5: wait 1; 6: best; 7: wait 1; 8: wait 2 -> stop
SWITCH_AT, BEST_AT, STOP_AT = 4, 2, 8


class ToyDataset(Dataset):

    def __init__(self, length=4):
        self.length = length

    def __len__(self):
        return self.length

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx + 1)), target=torch.tensor(1.0))


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, target=None, mode='tensor'):
        out = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - target)**2).mean())
        return [out.detach()]


class ScriptedMetric(BaseMetric):
    """Returns the next score of a fixed sequence at each evaluation."""

    def __init__(self, scores, key='score'):
        super().__init__()
        self.scores = list(scores)
        self.key = key
        self.calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        score = self.scores[self.calls]
        self.calls += 1
        return {self.key: score}


class Recorder(Hook):
    """Snapshots weights and lr at each validation, before (HIGHEST) or after (LOWEST) others."""

    def __init__(self, priority):
        self.priority = priority
        self.weights, self.lrs, self.phases, self.best_ckpts = [], [], [], []

    def after_val_epoch(self, runner, metrics=None):
        self.weights.append(copy.deepcopy(runner.model.state_dict()))
        self.lrs.append(runner.optim_wrapper.optimizer.param_groups[0]['lr'])
        hook = [h for h in runner.hooks if isinstance(h, TwoPhaseEarlyStopHook)][0]
        self.phases.append(hook.phase)
        self.best_ckpts.append(runner.message_hub.get_info('best_ckpt'))


def load_ckpt(path):
    # weights_only (torch's default): csunet.compat allow-lists mmengine's checkpoint types.
    return torch.load(path, map_location='cpu')


def make_runner(work_dir, scores, max_epochs=100, resume=False, by_epoch=True,
                val_interval=1, load_from=None, **hook_kwargs):
    hook = TwoPhaseEarlyStopHook(monitor='score', patience=PATIENCE, second_lr=SECOND_LR,
                                 **hook_kwargs)
    before, after = Recorder('HIGHEST'), Recorder('LOWEST')
    if by_epoch:
        train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=val_interval)
    else:
        train_cfg = dict(by_epoch=False, max_iters=max_epochs, val_interval=val_interval)
    torch.manual_seed(0)  # the same initial weights in every runner
    runner = Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'two_phase_{uuid.uuid4().hex}',  # own MessageHub per runner
        # iteration-based: one pass covers the whole run (mmengine sleeps 2 s per data restart)
        train_dataloader=DataLoader(ToyDataset(4 if by_epoch else 64), batch_size=2,
                                    shuffle=False),
        val_dataloader=DataLoader(ToyDataset(), batch_size=2, shuffle=False),
        val_evaluator=Evaluator([ScriptedMetric(scores)]),
        train_cfg=train_cfg,
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=FIRST_LR)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=by_epoch,
                            save_best='score', rule='greater'),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=[hook, before, after],
        resume=resume,
        load_from=load_from,
        log_level='WARNING',
        default_scope='mmseg',
    )
    return runner, hook, before, after


def _assert_same(sd_a, sd_b):
    assert sd_a.keys() == sd_b.keys()
    for k in sd_a:
        torch.testing.assert_close(sd_a[k], sd_b[k], rtol=0, atol=0)


def _differs(sd_a, sd_b):
    return any(not torch.equal(sd_a[k], sd_b[k]) for k in sd_a)


def test_registered_and_validates_args():
    assert HOOKS.get('TwoPhaseEarlyStopHook') is TwoPhaseEarlyStopHook
    with pytest.raises(ValueError):
        TwoPhaseEarlyStopHook(rule='max')
    with pytest.raises(ValueError):
        TwoPhaseEarlyStopHook(patience=0)


def test_two_phases_epoch_based(tmp_path):
    runner, hook, before, after = make_runner(tmp_path, SCORES)
    runner.train()

    # training stopped at the second patience exhaustion, far below max_epochs
    assert runner.train_loop.stop_training
    assert runner.epoch == STOP_AT
    assert len(before.weights) == STOP_AT
    assert hook.phase == 2 and hook.best_score == 4.0 and hook.wait_count == PATIENCE

    # phase 1 until the switch validation (inclusive, as seen before the hook ran)
    assert after.phases == [1] * (SWITCH_AT - 1) + [2] * (STOP_AT - SWITCH_AT + 1)
    assert before.lrs[:SWITCH_AT] == [FIRST_LR] * SWITCH_AT
    assert after.lrs[SWITCH_AT - 1] == SECOND_LR
    assert before.lrs[SWITCH_AT:] == [SECOND_LR] * (STOP_AT - SWITCH_AT)

    # the best weights (validation BEST_AT) were reloaded at the switch
    i_best, i_switch = BEST_AT - 1, SWITCH_AT - 1
    assert _differs(before.weights[i_switch], before.weights[i_best])  # weights had moved on
    _assert_same(after.weights[i_switch], before.weights[i_best])
    # ... from CheckpointHook's best checkpoint file
    assert after.best_ckpts[i_switch] == osp.join(str(tmp_path), f'best_score_epoch_{BEST_AT}.pth')
    # (that file is gone now: CheckpointHook replaced it with the phase-2 best)
    assert after.best_ckpts[-1] == osp.join(str(tmp_path), 'best_score_epoch_6.pth')
    _assert_same(load_ckpt(after.best_ckpts[-1])['state_dict'], before.weights[5])
    # and training went on from there in phase 2
    assert _differs(before.weights[i_switch + 1], after.weights[i_switch])

    # state is in the message hub (what resume restores) and in checkpoint meta
    assert runner.message_hub.get_info('two_phase_early_stop') == dict(
        phase=2, best_score=4.0, wait_count=PATIENCE, val_iter=runner.iter)
    last = load_ckpt(osp.join(str(tmp_path), f'epoch_{STOP_AT}.pth'))
    assert last['meta']['two_phase_early_stop']['phase'] == 2


def test_reset_optimizer_state(tmp_path):
    runner, hook, before, after = make_runner(
        tmp_path, SCORES[:SWITCH_AT], max_epochs=SWITCH_AT, reset_optimizer_state=True)
    runner.optim_wrapper = dict(optimizer=dict(type='Adam', lr=FIRST_LR))
    runner.train()
    assert hook.phase == 2
    opt = runner.optim_wrapper.optimizer
    assert all(g['lr'] == SECOND_LR for g in opt.param_groups)
    assert len(opt.state) == 0  # cleared at the switch, which was the last validation


def test_resume_keeps_state(tmp_path):
    # run 1: capped at epoch 5 -> phase 2, best 3.0, one validation without improvement
    runner, hook, _, _ = make_runner(tmp_path, SCORES[:5], max_epochs=5)
    runner.train()
    assert (hook.phase, hook.best_score, hook.wait_count) == (2, 3.0, 1)
    assert not runner.train_loop.stop_training

    # run 2: resume from epoch_5.pth, saved before validation 5: that validation is repeated
    runner2, hook2, before2, _ = make_runner(tmp_path, SCORES[4:], max_epochs=100, resume=True)
    runner2.train()
    # a fresh hook (phase 1, best -inf) would switch phase at epoch 8 instead of stopping
    assert runner2.train_loop.stop_training
    assert runner2.epoch == STOP_AT
    assert hook2.phase == 2 and hook2.best_score == 4.0
    assert before2.lrs == [SECOND_LR] * (STOP_AT - 4)


@pytest.mark.parametrize('by_epoch', [True, False], ids=['epoch_based', 'iter_based'])
def test_resume_before_switch_validation_matches_uninterrupted_run(tmp_path, by_epoch):
    # iteration-based: validation (and the switch) every 2 iterations
    per_val = 1 if by_epoch else 2
    kw = dict(by_epoch=by_epoch, val_interval=per_val)
    full, _, _, full_after = make_runner(tmp_path / 'full', SCORES, max_epochs=1000, **kw)
    full.train()
    # interrupted after the switch validation; the latest checkpoint was saved just before it
    switch_step = per_val * SWITCH_AT
    part, _, _, _ = make_runner(tmp_path / 'part', SCORES[:SWITCH_AT], max_epochs=switch_step,
                                **kw)
    part.train()
    unit = 'epoch' if by_epoch else 'iter'
    ckpt = load_ckpt(osp.join(str(tmp_path / 'part'), f'{unit}_{switch_step}.pth'))
    assert ckpt['meta']['two_phase_early_stop']['phase'] == 1
    resumed, hook, _, after = make_runner(tmp_path / 'part', SCORES[SWITCH_AT - 1:],
                                          max_epochs=1000, resume=True, **kw)
    resumed.train()
    # the repeated validation switched the phase on time, reloading the phase-1 best; from there
    # every validation sees the weights, lr and phase of the uninterrupted run, which it stops
    # at the same epoch
    assert after.phases == full_after.phases[SWITCH_AT - 1:]
    assert after.lrs == full_after.lrs[SWITCH_AT - 1:]
    for w, w_full in zip(after.weights, full_after.weights[SWITCH_AT - 1:], strict=True):
        _assert_same(w, w_full)
    assert (resumed.epoch, resumed.iter) == (full.epoch, full.iter)
    assert hook.state_dict() == full.message_hub.get_info('two_phase_early_stop')


def test_resume_from_checkpoint_saved_after_validation_does_not_repeat_it(tmp_path):
    runner, _, _, _ = make_runner(tmp_path, SCORES[:BEST_AT], max_epochs=BEST_AT)
    runner.train()
    best = osp.join(str(tmp_path), f'best_score_epoch_{BEST_AT}.pth')
    # the best checkpoint is written after its validation: nothing is missing from its state
    runner2, hook2, before2, _ = make_runner(tmp_path, SCORES[BEST_AT:], max_epochs=BEST_AT + 1,
                                             resume=True, load_from=best)
    runner2.train()
    assert len(before2.weights) == 1  # only validation BEST_AT + 1 (a wait) ran
    assert (hook2.best_score, hook2.wait_count) == (3.0, 1)


def test_load_from_does_not_restore_state(tmp_path):
    runner, hook, _, _ = make_runner(tmp_path / 'a', SCORES[:5], max_epochs=5)
    runner.train()
    runner2, hook2, _, after2 = make_runner(tmp_path / 'b', [0.5], max_epochs=1)
    runner2._load_from = osp.join(str(tmp_path / 'a'), 'epoch_5.pth')
    runner2.train()
    assert after2.phases == [1] and hook2.best_score == 0.5


def test_iter_based_counts_validations(tmp_path):
    # validation every 2 iterations; patience counts validations, not iterations
    runner, hook, before, after = make_runner(
        tmp_path, SCORES, max_epochs=1000, by_epoch=False, val_interval=2)
    runner.train()
    assert runner.train_loop.stop_training
    assert runner.iter == 2 * STOP_AT
    assert after.phases[SWITCH_AT - 1] == 2 and after.phases[SWITCH_AT - 2] == 1
    _assert_same(after.weights[SWITCH_AT - 1], before.weights[BEST_AT - 1])
    assert after.best_ckpts[SWITCH_AT - 1] == osp.join(
        str(tmp_path), f'best_score_iter_{2 * BEST_AT}.pth')


def test_missing_checkpoint_hook_save_best(tmp_path):
    runner, _, _, _ = make_runner(tmp_path, SCORES)
    for h in runner.hooks:
        if type(h).__name__ == 'CheckpointHook':
            h.save_best = None
    with pytest.raises(RuntimeError, match='save_best'):
        runner.train()


def test_validation_outside_training_is_ignored(tmp_path):
    runner, hook, _, _ = make_runner(tmp_path, SCORES[:3], max_epochs=1)
    runner.train()
    state = hook.state_dict()
    runner.val()
    runner.val()  # two non-improving scores after training: no effect
    assert hook.state_dict() == state


def test_schedule_config(tmp_path):
    base = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_')
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(f"_base_ = [{osp.join(base, 'default_runtime.py')!r}, "
                        f"{osp.join(base, 'schedules', 'nasa_two_phase.py')!r}]\n")
    cfg = Config.fromfile(str(cfg_file))  # no key clashes with the shared runtime
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 2e-4
    assert cfg.train_cfg.val_interval == 1 and cfg.train_cfg.max_epochs >= 1000
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    assert cfg.default_hooks.checkpoint.rule == 'greater'
    (hook_cfg, ) = cfg.custom_hooks
    hook = HOOKS.build(hook_cfg)
    assert isinstance(hook, TwoPhaseEarlyStopHook)
    assert (hook.monitor, hook.patience, hook.second_lr) == ('mIoU', 30, 1e-5)


def test_best_ckpt_key_lookup():
    from mmengine.hooks import CheckpointHook
    hook = TwoPhaseEarlyStopHook(monitor='nasa_iou')
    single = CheckpointHook(save_best='nasa_iou', rule='greater')
    multi = CheckpointHook(save_best=['mIoU', 'nasa_iou'], rule='greater')
    assert hook._find_best_ckpt_key([single]) == 'best_ckpt'
    assert hook._find_best_ckpt_key([multi]) == 'best_ckpt_nasa_iou'
    with pytest.raises(ValueError, match='rule'):
        hook._find_best_ckpt_key([CheckpointHook(save_best='nasa_iou', rule='less')])
    with pytest.raises(RuntimeError):
        hook._find_best_ckpt_key([CheckpointHook(save_best='mIoU', rule='greater')])
