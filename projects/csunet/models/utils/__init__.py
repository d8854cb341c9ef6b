from .pretrained import LoadReport, PretrainedLoadError, extract_state_dict, load_pretrained

__all__ = ['LoadReport', 'PretrainedLoadError', 'extract_state_dict', 'load_pretrained']
