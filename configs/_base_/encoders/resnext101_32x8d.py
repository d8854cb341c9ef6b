# CNN encoder resnext101_32x8d: timm model and its widths at strides 4/8/16/32
# (TimmCNN('resnext101_32x8d').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'resnext101_32x8d'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'resnext101_32x8d'
cnn_converted_model_name = 'resnext101_32x8d'
cnn_channels = [256, 512, 1024, 2048]
