"""NASA's two-phase schedule: early stop -> reload best weights at a lower lr -> early stop.

The CS-UNet paper trains like NASA's pretrained-microscopy-models: Adam at lr 2e-4, validating
every epoch, until the validation IoU has not improved for ``patience`` (30) validations; then the
best weights are reloaded and training goes on at lr 1e-5 until the IoU again has not improved for
``patience`` validations, and stops.

What mmengine 0.10.7 already provides, and is reused:

* ``CheckpointHook(save_best=<metric>, rule='greater')`` keeps the best checkpoint on disk and its
  path in the message hub (``best_ckpt``, or ``best_ckpt_<metric>`` with several metrics). This
  hook reloads *that* file at the phase switch instead of keeping a second copy of the weights.
* ``train_loop.stop_training`` (Epoch- and IterBasedTrainLoop) ends training.

What is missing and done here: ``EarlyStoppingHook`` can only stop; it has no phase switch, counts
an equal score as an improvement (``best + min_delta > score`` is false for ``min_delta=0``) and
does not keep its counter across ``--resume``. :class:`TwoPhaseEarlyStopHook` therefore:

* counts *validations* without strict improvement (``score > best``, as NASA's
  ``max_score < iou``), so it works with any ``val_interval`` and with ``IterBasedTrainLoop``:
  ``patience`` means "validations", which is epochs with the NASA recipe (``val_interval=1``);
* after ``patience`` such validations in phase 1: loads the ``state_dict`` of the best checkpoint
  into the model, sets ``lr`` of every optimizer param group to ``second_lr``, optionally clears
  the optimizer state, and resets the counter (the best score is kept, so phase 2 must beat the
  phase-1 best, like NASA's single ``max_score``);
* after ``patience`` such validations in phase 2 (or on a non-finite score): sets
  ``runner.train_loop.stop_training = True``;
* logs one line per validation (epoch, iteration, score, best, phase, counter) and one for the
  switch or the stop, on every rank that has a log file (all of them with
  ``log_level='DEBUG'``: mmengine then writes one log per rank), so distributed runs can be
  checked rank by rank;
* stores ``phase``, ``best_score``, ``wait_count`` and ``val_iter`` (the iteration of the last
  counted validation) in the message hub's runtime info, which mmengine saves in every checkpoint
  and restores on ``resume`` only (not on ``load_from``), and reads them back in
  ``before_train``. A copy also goes into ``checkpoint['meta']`` for inspection.
* repeats, on ``resume``, the validation that the checkpoint missed. mmengine's loops save the
  latest checkpoint (``after_train_epoch`` / ``after_train_iter``) *before* validating, so a
  checkpoint taken at a validation point holds the state of the validation before it: resumed
  as it is, the run would forget one validation, and when that validation switched the phase it
  would switch one validation late, on weights trained one more interval at the phase-1 lr.
  The hook therefore validates again before the first resumed epoch (``before_train_epoch``, once
  every hook, ``CheckpointHook`` included, has restored its own state), so counter, best score,
  best checkpoint and a due switch are those of an uninterrupted run. A checkpoint saved after
  its validation (the best one, or one without ``val_iter``: written before this existed) is
  resumed as it is. Edge case left: if the repeated validation is the one that *stops* training,
  an epoch-based loop still trains that one resumed epoch (a hook cannot cancel it; the best
  checkpoint, which is what gets tested, is unaffected).

Its priority is ``LOW``: it runs after the logger but *before* ``CheckpointHook`` (``VERY_LOW``)
in ``after_val_epoch``, so when ``CheckpointHook`` re-saves the latest checkpoint after a new best
the saved runtime info already holds this hook's updated state. The phase switch happens only on a
validation that is not an improvement, so ``CheckpointHook`` has nothing newer to save then and the
``best_ckpt`` path read here is the current best.

Note: a learning-rate scheduler in ``param_scheduler`` would keep rewriting ``lr``; the NASA
recipe has none (``configs/_base_/schedules/nasa_two_phase.py`` sets ``param_scheduler = []``).
"""
import math
import warnings
from typing import Optional, Sequence

from mmengine.hooks import CheckpointHook, Hook
from mmengine.optim import OptimWrapperDict
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.checkpoint import load_checkpoint
from mmseg.registry import HOOKS

__all__ = ['TwoPhaseEarlyStopHook']


@HOOKS.register_module()
class TwoPhaseEarlyStopHook(Hook):
    """Two-phase early stopping with best-weight reload and lr drop (NASA / CS-UNet recipe).

    Args:
        monitor (str): Key of the validation metric, as returned by the evaluator, e.g. ``'mIoU'``
            or ``'nasa_iou'`` (with a metric ``prefix``: ``'<prefix>/nasa_iou'``).
            Defaults to ``'mIoU'``.
        patience (int): Number of consecutive validations without improvement that end a phase.
            Defaults to 30.
        second_lr (float): Learning rate of all param groups in phase 2. Defaults to 1e-5.
        rule (str): ``'greater'`` or ``'less'``: which scores are better. Defaults to
            ``'greater'``.
        reset_optimizer_state (bool): Clear the optimizer state (e.g. Adam moments) at the switch.
            NASA keeps the optimizer as it is. Defaults to False.
        strict (bool): Raise if ``monitor`` is missing from the validation metrics; otherwise
            warn and skip that validation. Defaults to True.
        check_finite (bool): Stop training when the score is NaN or infinite. Defaults to True.
    """

    priority = 'LOW'
    #: Key of this hook's state in the message hub runtime info and in ``checkpoint['meta']``.
    state_key = 'two_phase_early_stop'

    def __init__(self,
                 monitor: str = 'mIoU',
                 patience: int = 30,
                 second_lr: float = 1e-5,
                 rule: str = 'greater',
                 reset_optimizer_state: bool = False,
                 strict: bool = True,
                 check_finite: bool = True) -> None:
        if rule not in ('greater', 'less'):
            raise ValueError(f'rule must be "greater" or "less", got {rule!r}')
        if int(patience) < 1:
            raise ValueError(f'patience must be >= 1, got {patience}')
        if not second_lr > 0:
            raise ValueError(f'second_lr must be > 0, got {second_lr}')
        self.monitor = monitor
        self.patience = int(patience)
        self.second_lr = float(second_lr)
        self.rule = rule
        self.reset_optimizer_state = reset_optimizer_state
        self.strict = strict
        self.check_finite = check_finite
        self._best_ckpt_key: Optional[str] = None
        self._training = False
        self._revalidate = False
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.phase = 1
        self.best_score = -math.inf if self.rule == 'greater' else math.inf
        self.wait_count = 0
        self.val_iter: Optional[int] = None

    def state_dict(self) -> dict:
        """The resumable state: ``phase``, ``best_score``, ``wait_count``, ``val_iter``."""
        return dict(phase=self.phase, best_score=self.best_score, wait_count=self.wait_count,
                    val_iter=self.val_iter)

    def load_state_dict(self, state: dict) -> None:
        self.phase = int(state['phase'])
        self.best_score = float(state['best_score'])
        self.wait_count = int(state['wait_count'])
        # absent from checkpoints written before the hook stored it
        self.val_iter = state.get('val_iter')

    def _publish_state(self, runner) -> None:
        runner.message_hub.update_info(self.state_key, self.state_dict())

    def _is_better(self, score: float) -> bool:
        if self.rule == 'greater':
            return score > self.best_score
        return score < self.best_score

    # ------------------------------------------------------------------ hooks
    def before_run(self, runner) -> None:
        # the same check as mmengine's EarlyStoppingHook
        assert hasattr(runner.train_loop, 'stop_training'), \
            '`train_loop` should contain `stop_training` variable.'

    def before_train(self, runner) -> None:
        """Find the best-checkpoint key of ``CheckpointHook``; restore state on resume."""
        self._training = True
        self._best_ckpt_key = self._find_best_ckpt_key(runner.hooks)
        state = runner.message_hub.get_info(self.state_key)
        if state is None:
            self._reset_state()
        else:
            self.load_state_dict(state)
            runner.logger.info(
                f'{type(self).__name__}: resumed in phase {self.phase}, best {self.monitor} '
                f'{self.best_score:.4f}, {self.wait_count}/{self.patience} validations without '
                'improvement')
            if self.phase == 2:
                self._set_lr(runner, self.second_lr)
            self._revalidate = self._missed_validation(runner)
        self._publish_state(runner)

    def before_train_epoch(self, runner) -> None:
        """On resume, repeat the validation the checkpoint was saved before (see module doc)."""
        if not self._revalidate:
            return
        self._revalidate = False
        runner.logger.info(
            f'{self._where(runner)}: the resumed checkpoint was saved before this validation '
            f'(last counted at iter {self.val_iter}); validating again so that early stopping '
            'goes on as in an uninterrupted run.')
        runner.val_loop.run()

    def after_train(self, runner) -> None:
        self._training = False
        self._revalidate = False

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[self.state_key] = self.state_dict()

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Update the counter after a validation; switch phase or stop when it runs out."""
        if not self._training:  # a stand-alone runner.val(): nothing to schedule
            return
        metrics = metrics or {}
        if self.monitor not in metrics:
            message = (f'{type(self).__name__}: metric `{self.monitor}` is not among the '
                       f'validation metrics {list(metrics)}')
            if self.strict:
                raise KeyError(message + '; fix `monitor` or set strict=False.')
            warnings.warn(message + '; this validation is skipped.')
            return
        score = float(metrics[self.monitor])

        if self.check_finite and not math.isfinite(score):
            runner.logger.warning(
                f'{self._where(runner)}: {self.monitor} = {score} is not finite; stopping. '
                f'Best was {self.best_score:.4f}.')
            runner.train_loop.stop_training = True
        elif self._is_better(score):
            self.best_score = score
            self.wait_count = 0
        else:
            self.wait_count += 1
        self.val_iter = runner.iter
        # One line per validation: the decision's inputs, so a log (one per rank in distributed
        # training) shows why and when the phase switched or training stopped.
        runner.logger.info(
            f'{self._where(runner)}: {self.monitor} {score:.4f}, best {self.best_score:.4f}, '
            f'phase {self.phase}, {self.wait_count}/{self.patience} validations without '
            f'improvement, lr {self._current_lr(runner):g}')
        if math.isfinite(score) or not self.check_finite:
            if self.wait_count >= self.patience:
                if self.phase == 1:
                    self._switch_phase(runner)
                else:
                    runner.logger.info(
                        f'{self._where(runner)}: no improvement of {self.monitor} in '
                        f'{self.wait_count} validations of phase 2 (best '
                        f'{self.best_score:.4f}); stopping training.')
                    runner.train_loop.stop_training = True
        self._publish_state(runner)

    # ---------------------------------------------------------------- helpers
    def _find_best_ckpt_key(self, hooks: Sequence[Hook]) -> str:
        """Message-hub key under which ``CheckpointHook`` keeps the best checkpoint of monitor."""
        for hook in hooks:
            if not isinstance(hook, CheckpointHook) or not getattr(hook, 'save_best', None):
                continue
            indicators = list(hook.key_indicators)
            rules = list(getattr(hook, 'rules', [None] * len(indicators)))
            if indicators == ['auto']:
                warnings.warn(f'{type(self).__name__}: CheckpointHook(save_best="auto") is '
                              f'assumed to track `{self.monitor}`; set save_best explicitly.')
                return 'best_ckpt'
            if self.monitor in indicators:
                idx = indicators.index(self.monitor)
                if rules[idx] is not None and rules[idx] != self.rule:
                    raise ValueError(
                        f'{type(self).__name__}(rule={self.rule!r}) but CheckpointHook keeps '
                        f'the best `{self.monitor}` with rule={rules[idx]!r}')
                return 'best_ckpt' if len(indicators) == 1 else f'best_ckpt_{self.monitor}'
        raise RuntimeError(
            f'{type(self).__name__} reloads the best checkpoint kept by CheckpointHook; configure '
            f"default_hooks.checkpoint with save_best='{self.monitor}', rule='{self.rule}'.")

    def _missed_validation(self, runner) -> bool:
        """Whether the resumed position is a validation point the restored state has not seen."""
        loop = runner.train_loop
        if self.val_iter is None or self.val_iter >= runner.iter or runner.val_loop is None:
            return False
        if isinstance(loop, EpochBasedTrainLoop):
            done = runner.epoch  # completed epochs: the checkpoint's meta['epoch']
        elif isinstance(loop, IterBasedTrainLoop):
            done = runner.iter
        else:  # a custom loop: its validation points are unknown
            return False
        return done >= loop.val_begin and done % loop.val_interval == 0

    def _where(self, runner) -> str:
        """Log prefix: the hook and the training progress (epochs and iterations completed)."""
        return f'{type(self).__name__} at epoch {runner.epoch}, iter {runner.iter}'

    def _optim_wrappers(self, runner) -> list:
        wrapper = runner.optim_wrapper
        if isinstance(wrapper, OptimWrapperDict):
            return list(wrapper.values())
        return [wrapper]

    def _current_lr(self, runner) -> float:
        """The lr of the first param group (the one this hook sets in every group)."""
        return self._optim_wrappers(runner)[0].optimizer.param_groups[0]['lr']

    def _set_lr(self, runner, lr: float) -> None:
        for wrapper in self._optim_wrappers(runner):
            for group in wrapper.optimizer.param_groups:
                group['lr'] = lr

    @staticmethod
    def _load_weights(runner, path: str) -> None:
        """Load the ``state_dict`` of ``path`` (strict) into the (possibly wrapped) model.

        mmengine's loader, not ``runner.load_checkpoint``: the latter calls the
        ``after_load_checkpoint`` hooks as for a ``load_from``.
        ``csunet.compat.torch_load`` lets ``weights_only`` loading read mmengine's checkpoints.
        """
        load_checkpoint(runner.model, path, map_location='cpu', strict=True, logger=runner.logger)

    def _switch_phase(self, runner) -> None:
        key = self._best_ckpt_key or self._find_best_ckpt_key(runner.hooks)
        best_ckpt = runner.message_hub.get_info(key)
        if not best_ckpt:
            raise RuntimeError(f'{type(self).__name__}: no best checkpoint under message-hub key '
                               f'`{key}`; was CheckpointHook(save_best=...) active?')
        runner.logger.info(
            f'{self._where(runner)}: no improvement of {self.monitor} in {self.wait_count} '
            f'validations (best {self.best_score:.4f}); phase 2: reloading {best_ckpt} and '
            f'setting lr to {self.second_lr:g}.')
        self._load_weights(runner, best_ckpt)
        for wrapper in self._optim_wrappers(runner):
            if self.reset_optimizer_state:
                wrapper.optimizer.state.clear()
        self._set_lr(runner, self.second_lr)
        if getattr(runner, 'param_schedulers', None):
            warnings.warn(f'{type(self).__name__}: param_scheduler is set and may override the '
                          f'phase-2 lr {self.second_lr:g}.')
        self.phase = 2
        self.wait_count = 0
