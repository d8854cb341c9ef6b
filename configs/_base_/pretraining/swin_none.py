# Swin branch from random weights.
swin_pretraining = 'none'
swin_init_cfg = None
