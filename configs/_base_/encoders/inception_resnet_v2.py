# CNN encoder inception_resnet_v2: timm model and its widths at strides 4/8/16/32
# (TimmCNN('inception_resnet_v2').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'inceptionresnetv2'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'inception_resnet_v2'
cnn_converted_model_name = 'inception_resnet_v2'
cnn_channels = [192, 320, 1088, 1536]
