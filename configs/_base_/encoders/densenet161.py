# CNN encoder densenet161: timm model and its widths at strides 4/8/16/32
# (TimmCNN('densenet161').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'densenet161'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'densenet161'
cnn_converted_model_name = 'densenet161'
cnn_channels = [384, 768, 2112, 2208]
