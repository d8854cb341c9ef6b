# CNN branch from random weights (timm's default initialisation).
cnn_pretraining = 'none'
cnn_init_cfg = None
