# CNN encoder inception_v4: timm model and its widths at strides 4/8/16/32
# (TimmCNN('inception_v4').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# micronet2timm.py emits this same timm model for NASA/smp encoder 'inceptionv4'.
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'inception_v4'
cnn_converted_model_name = 'inception_v4'
cnn_channels = [160, 384, 1024, 1536]
