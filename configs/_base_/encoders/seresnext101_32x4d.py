# CNN encoder seresnext101_32x4d: timm model and its widths at strides 4/8/16/32
# (TimmCNN('seresnext101_32x4d').out_channels; checked by tests/test_configs/test_leaf_configs.py).
# For NASA/smp encoder 'se_resnext101_32x4d', micronet2timm.py emits timm's
# 'legacy_seresnext101_32x4d' (same widths; leaf configs with a pretrained CNN build it,
# `cnn_converted_model_name`).
# Leaf configs use them as `_base_.<name>` (see tools/misc/experiments.py for why).
cnn_model_name = 'seresnext101_32x4d'
cnn_converted_model_name = 'legacy_seresnext101_32x4d'
cnn_channels = [256, 512, 1024, 2048]
