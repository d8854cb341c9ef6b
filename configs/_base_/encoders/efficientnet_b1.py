# CNN encoder efficientnet_b1: its timm model. The widths at strides 4/8/16/32 are
# timm's feature_info (TimmCNN(cnn_model_name).out_channels), written into leaves by experiments.py.
# For NASA/smp encoder 'efficientnet-b1', micronet2timm.py emits timm's
# 'tf_efficientnet_b1' (same widths; leaf configs with a pretrained CNN build it,
# `cnn_converted_model_name`).
# Leaf configs use them as `_base_.<name>` (see csunet/experiments.py for why).
cnn_model_name = 'efficientnet_b1'
cnn_converted_model_name = 'tf_efficientnet_b1'
