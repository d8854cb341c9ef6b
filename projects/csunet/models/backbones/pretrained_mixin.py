"""``init_weights`` that routes a ``Pretrained`` init_cfg through :func:`load_pretrained`."""
from mmengine.model import BaseModule

from ..utils import load_pretrained


class PretrainedBranchMixin:
    """For a :class:`~mmengine.model.BaseModule` branch of CS-UNet.

    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None, min_loaded_ratio=0.9)`` loads
    with counts and a failure threshold (see :func:`~csunet.models.utils.load_pretrained`); any
    other ``init_cfg`` goes to mmengine as usual. Subclasses set ``branch_name`` and may override
    :meth:`pretrained_target` (the submodule the checkpoint's keys are relative to).
    """
    branch_name = 'branch'

    def pretrained_target(self):
        return self

    def adapt_pretrained_state(self, state: dict) -> dict:
        """Rename checkpoint tensors to the target's names (identity by default)."""
        return state

    def init_weights(self) -> None:
        cfg = self.init_cfg  # type: ignore[attr-defined]
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            unknown = set(cfg) - {'type', 'checkpoint', 'prefix', 'min_loaded_ratio',
                                  'map_location'}
            if unknown:
                raise KeyError(f'{self.branch_name}.init_cfg: unknown key(s) {sorted(unknown)}; '
                               f"allowed: checkpoint, prefix, min_loaded_ratio, map_location")
            if not cfg.get('checkpoint'):
                raise KeyError(f'{self.branch_name}.init_cfg: Pretrained needs `checkpoint`')
            load_pretrained(
                self.pretrained_target(),
                cfg['checkpoint'],
                branch=self.branch_name,
                prefix=cfg.get('prefix'),
                min_loaded_ratio=cfg.get('min_loaded_ratio', 0.9),
                map_location=cfg.get('map_location', 'cpu'),
                adapt=self.adapt_pretrained_state)
            self._is_init = True  # mmengine's flag: do not initialise again
            return
        BaseModule.init_weights(self)  # type: ignore[arg-type]
