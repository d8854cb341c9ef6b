# CNN encoder mobilenetv2_100: timm model and its widths at strides 4/8/16/32
# (TimmCNN('mobilenetv2_100').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'mobilenet_v2'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'mobilenetv2_100'
cnn_converted_model_name = 'mobilenetv2_100'
cnn_channels = [24, 32, 96, 320]
