# CNN encoder legacy_senet154: timm model and its widths at strides 4/8/16/32
# (TimmCNN('legacy_senet154').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'senet154'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'legacy_senet154'
cnn_converted_model_name = 'legacy_senet154'
cnn_channels = [256, 512, 1024, 2048]
