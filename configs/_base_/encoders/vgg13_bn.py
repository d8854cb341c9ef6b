# CNN encoder vgg13_bn: timm model and its widths at strides 4/8/16/32
# (TimmCNN('vgg13_bn').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'vgg13_bn'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'vgg13_bn'
cnn_converted_model_name = 'vgg13_bn'
cnn_channels = [256, 512, 512, 512]
