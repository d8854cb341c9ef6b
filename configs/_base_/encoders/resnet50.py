# CNN encoder resnet50 (project default): timm model and its widths at strides 4/8/16/32
# (TimmCNN('resnet50').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'resnet50'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'resnet50'
cnn_converted_model_name = 'resnet50'
cnn_channels = [256, 512, 1024, 2048]
