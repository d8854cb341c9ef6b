from .pretrained import (LoadReport, PretrainedLoadError, extract_state_dict, load_pretrained,
                         unwrap_checkpoint)

__all__ = [
    'LoadReport', 'PretrainedLoadError', 'extract_state_dict', 'load_pretrained',
    'unwrap_checkpoint'
]
