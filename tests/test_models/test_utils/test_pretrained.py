import pytest
import torch

from csunet.fileio import ConversionError
from csunet.models.utils import PretrainedLoadError, extract_state_dict, unwrap_checkpoint


def test_unwrap_checkpoint_opens_wrappers_and_drops_non_tensors():
    w = torch.ones(2)
    assert unwrap_checkpoint({'a.weight': w, 'epoch': 3}) == {'a.weight': w}
    assert unwrap_checkpoint({'state_dict': {'a.weight': w}, 'meta': {}}) == {'a.weight': w}
    assert unwrap_checkpoint({'model': {'a.weight': w}}) == {'a.weight': w}
    nested = {'model': {'state_dict': {'a.weight': w}}}
    # One level by default: the inner wrapper is a non-tensor entry and is dropped.
    assert unwrap_checkpoint(nested) == {}
    assert unwrap_checkpoint(nested, max_depth=2) == {'a.weight': w}


def test_unwrap_checkpoint_raises_the_callers_error():
    with pytest.raises(PretrainedLoadError, match='holds a list, not a state dict'):
        unwrap_checkpoint([torch.ones(1)])
    with pytest.raises(ConversionError, match='holds a Tensor, not a state dict'):
        unwrap_checkpoint(torch.ones(1), ConversionError)


def test_extract_state_dict_renames_then_selects_the_prefix():
    w, b = torch.ones(1), torch.zeros(1)
    ckpt = {'state_dict': {'module.backbone.swin.x': w, 'backbone.cnn.y': b, 'step': 7}}
    assert extract_state_dict(ckpt, prefix='backbone.swin') == {'x': w}
    assert extract_state_dict(ckpt) == {'backbone.swin.x': w, 'backbone.cnn.y': b}
