"""Load a checkpoint into one branch of CS-UNet and prove what was loaded.

mmengine's ``Pretrained`` initialiser loads with ``strict=False`` and only warns about missing
keys, so a checkpoint with the wrong key layout (the CS-UNet authors' loader skips almost every
key for that reason) trains silently from random weights. :func:`load_pretrained` counts loaded,
missing, unexpected and shape-mismatched tensors, logs them per branch and raises when less than
``min_loaded_ratio`` of the branch's tensors would load.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

__all__ = [
    'LoadReport', 'PretrainedLoadError', 'extract_state_dict', 'load_pretrained',
    'unwrap_checkpoint'
]


#: Renames a checkpoint's tensors to a module's names.
StateAdapter = Callable[[Dict[str, torch.Tensor]], Dict[str, torch.Tensor]]


class PretrainedLoadError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the branch it is loaded into."""


@dataclass
class LoadReport:
    """What :func:`load_pretrained` did to one branch."""
    branch: str
    checkpoint: str
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)

    @property
    def loaded_ratio(self) -> float:
        total = len(self.loaded) + len(self.missing)
        return len(self.loaded) / total if total else 1.

    def summary(self) -> str:
        return (f'[{self.branch}] {self.checkpoint}: loaded {len(self.loaded)}, '
                f'missing {len(self.missing)}, unexpected {len(self.unexpected)}, '
                f'shape-mismatched {len(self.mismatched)} tensors '
                f'({100 * self.loaded_ratio:.1f}% of the branch)')


def unwrap_checkpoint(checkpoint: object,
                      error_cls: Type[Exception] = PretrainedLoadError,
                      max_depth: int = 1) -> Dict[str, torch.Tensor]:
    """The tensors of a loaded checkpoint, out of its ``state_dict`` / ``model`` wrappers.

    Args:
        checkpoint: What ``torch.load`` returned.
        error_cls: Raised (with the reason) when no state dict is found; converters pass their own.
        max_depth: How many nested wrappers to open (``{'model': {'state_dict': ...}}`` needs 2).

    Returns:
        ``{key: tensor}``; non-tensor entries (``epoch``, ``meta`` ...) are dropped.
    """
    state = checkpoint
    for _ in range(max_depth):
        wrapper = next((w for w in ('state_dict', 'model')
                        if isinstance(state, dict) and isinstance(state.get(w), dict)), None)
        if wrapper is None:
            break
        state = state[wrapper]
    if not isinstance(state, dict):
        raise error_cls(f'checkpoint holds a {type(state).__name__}, not a state dict')
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def extract_state_dict(checkpoint: dict,
                       prefix: Optional[str] = None,
                       revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )
                       ) -> Dict[str, torch.Tensor]:
    """Tensor dict of a loaded checkpoint: unwrap ``state_dict``/``model``, rename, select prefix.

    Args:
        checkpoint: What ``torch.load`` returned.
        prefix: Keep only keys starting with ``prefix`` (``'backbone.swin.'`` takes the Swin branch
            out of a whole CS-UNet checkpoint) and strip it. A missing trailing dot is added.
        revise_keys: ``(pattern, replacement)`` regexes applied to every key first.
    """
    state = unwrap_checkpoint(checkpoint, PretrainedLoadError, max_depth=1)
    for pattern, repl in revise_keys:
        state = {re.sub(pattern, repl, k): v for k, v in state.items()}
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return state


def load_pretrained(module: nn.Module,
                    checkpoint: str,
                    branch: str,
                    prefix: Optional[str] = None,
                    min_loaded_ratio: float = 0.9,
                    map_location: str = 'cpu',
                    adapt: Optional[StateAdapter] = None) -> LoadReport:
    """Load ``checkpoint`` into ``module`` (non-strict), log counts, fail if too little loads.

    Args:
        module: The branch to fill.
        checkpoint: Local path, URL or any scheme mmengine's ``CheckpointLoader`` knows.
        branch: Name used in logs and errors (``'swin'``, ``'cnn'``).
        prefix: See :func:`extract_state_dict`.
        min_loaded_ratio: Fraction of the branch's tensors that must load, else
            :class:`PretrainedLoadError`. 0 disables the check.
        map_location: Passed to ``torch.load``.
        adapt: Optional renaming of the extracted tensors to the branch's names (applied after
            ``prefix``), e.g. timm classification -> ``features_only`` names.

    Returns:
        The :class:`LoadReport`, also stored as ``module.pretrained_report``.
    """
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise PretrainedLoadError(
            f'[{branch}] init_cfg.checkpoint: file not found: {checkpoint!r}. Point it at the '
            f'downloaded weights, or remove the Pretrained init_cfg to start from random weights.')
    try:
        raw = CheckpointLoader.load_checkpoint(checkpoint, map_location=map_location)
    except Exception as e:  # noqa: BLE001 - re-raised with the file and branch named
        raise PretrainedLoadError(f'[{branch}] cannot read checkpoint {checkpoint!r}: {e}') from e
    source = extract_state_dict(raw, prefix)
    if adapt is not None:
        source = adapt(source)
    target = module.state_dict()
    report = LoadReport(branch, checkpoint)
    to_load = {}
    for key, value in source.items():
        if key not in target:
            report.unexpected.append(key)
        elif target[key].shape != value.shape:
            report.mismatched.append((key, tuple(value.shape), tuple(target[key].shape)))
        else:
            to_load[key] = value
    report.loaded = sorted(to_load)
    report.unexpected.sort()
    report.missing = sorted(set(target) - set(to_load))
    if report.loaded_ratio < min_loaded_ratio:
        examples = report.missing[:5] + [k for k, *_ in report.mismatched[:3]]
        raise PretrainedLoadError(
            f'{report.summary()}; at least {100 * min_loaded_ratio:.0f}% must load. The key '
            f'layout does not match this branch (check `prefix`, or convert the checkpoint with '
            f'tools/model_converters/). Not loaded, e.g.: {examples}; '
            f'unexpected, e.g.: {report.unexpected[:5]}')
    module.load_state_dict(to_load, strict=False)
    print_log(report.summary(), logger='current')
    module.pretrained_report = report
    return report
