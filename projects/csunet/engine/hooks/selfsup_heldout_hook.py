"""Watch self-supervised pretraining on held-out tiles: what shows overfitting and collapse."""
import copy
import math
import os.path as osp
import random
from typing import Dict, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import default_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import DATASETS, HOOKS
from torch.utils.data import DataLoader

METRICS = ('loss', 'embedding_std')


@HOOKS.register_module()
class SelfSupHeldOutHook(Hook):
    """Every ``interval`` iterations (and after the last), evaluate the model on the pool's
    held-out tiles (``meta/val.txt`` of :mod:`csunet.datasets.unlabelled`, the same ``data_root``
    and pipeline as the training set) and log:

    * ``loss``: the self-supervised loss (SimMIM's masked-pixel L1, SimSiam's negative cosine) of
      the held-out tiles. A training loss that keeps falling while this one rises is the pretext
      task overfitting the pool.
    * ``embedding_std``: the std over the batch of the L2-normalised projector output, averaged
      over channels (the SimSiam paper's collapse indicator): about ``1/sqrt(d)`` when the
      embeddings spread, 0 when they have collapsed to one vector.

    Randomness (masks, views) is re-seeded with ``seed`` for each evaluation and restored after,
    so successive values are comparable. In a distributed run the main process evaluates all the
    held-out tiles (eval mode: no BatchNorm synchronisation), the others skip. Values go to the
    log and to the visualizer's scalars (``heldout/loss``, ``heldout/embedding_std``;
    ``vis_data/scalars.json``).

    Args:
        interval: Iterations between evaluations.
        metrics: Any of ``'loss'`` and ``'embedding_std'``. ``'loss'`` must not be asked of models
            whose loss changes state (DenseCL's and MoCo's queues and momentum encoders).
        ann_file: The held-out list, relative to the training set's ``data_root``.
        batch_size: Held-out batch size.
        seed: Seed of the held-out masks / views.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 100, metrics: Sequence[str] = ('loss', ),
                 ann_file: str = 'meta/val.txt', batch_size: int = 16, seed: int = 0) -> None:
        unknown = set(metrics) - set(METRICS)
        if unknown or not metrics:
            raise KeyError(f'SelfSupHeldOutHook.metrics: unknown {sorted(unknown)} '
                           f'(use some of {METRICS})')
        self.interval = interval
        self.metrics = tuple(metrics)
        self.ann_file = ann_file
        self.batch_size = batch_size
        self.seed = seed
        self.loader = None

    def before_train(self, runner) -> None:
        cfg = copy.deepcopy(runner.cfg.train_dataloader)
        dataset = cfg['dataset']
        path = osp.join(dataset.get('data_root', ''), self.ann_file)
        if not osp.isfile(path) or osp.getsize(path) == 0:
            runner.logger.warning(f'SelfSupHeldOutHook: no held-out tiles ({path} missing or '
                                  'empty; build the pool with --val-fraction > 0): not logging')
            return
        dataset['ann_file'] = self.ann_file
        # A plain loader over all held-out tiles (not mmengine's DefaultSampler, which would give
        # each rank of a distributed run a share); only the main process evaluates.
        self.loader = DataLoader(DATASETS.build(dataset), batch_size=self.batch_size,
                                 shuffle=False, num_workers=0, collate_fn=default_collate)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self._log(runner)

    def _log(self, runner) -> None:
        if self.loader is None or not is_main_process():
            return
        values = self.evaluate(runner.model)
        text = ', '.join(f'{k} {v:.4f}' for k, v in values.items())
        runner.logger.info(f'held-out ({len(self.loader.dataset)} tiles) at iter '
                           f'{runner.iter + 1}: {text}')
        runner.visualizer.add_scalars({f'heldout/{k}': v for k, v in values.items()},
                                      step=runner.iter + 1)

    @torch.no_grad()
    def evaluate(self, model) -> Dict[str, float]:
        """Mean held-out metrics; for ``embedding_std`` also ``embedding_std_ref`` =
        ``1/sqrt(d)``."""
        module = model.module if is_model_wrapper(model) else model
        was_training = module.training
        states = random.getstate(), np.random.get_state(), torch.get_rng_state()
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        module.eval()
        sums: Dict[str, float] = {}
        count = 0
        embeddings = []
        try:
            for batch in self.loader:
                data = module.data_preprocessor(batch, True)
                inputs, samples = data['inputs'], data['data_samples']
                x = inputs[0] if isinstance(inputs, list) else inputs  # first view
                n = x.shape[0]
                if 'loss' in self.metrics:
                    losses = module.loss(inputs, samples)
                    loss = sum(v for k, v in losses.items() if 'loss' in k)
                    sums['loss'] = sums.get('loss', 0.) + float(loss) * n
                if 'embedding_std' in self.metrics:
                    z = module.neck(module.backbone(x))[0]
                    embeddings.append(F.normalize(z.flatten(1).float(), dim=1))
                count += n
        finally:
            module.train(was_training)
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])
        values = {k: v / count for k, v in sums.items()}
        if embeddings:
            z = torch.cat(embeddings)
            values['embedding_std'] = float(z.std(0).mean()) if len(z) > 1 else float('nan')
            values['embedding_std_ref'] = 1 / math.sqrt(z.shape[1])
        return values
