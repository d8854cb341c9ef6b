# CNN encoder seresnet152: its timm model. The widths at strides 4/8/16/32 are
# timm's feature_info (TimmCNN(cnn_model_name).out_channels), written into leaves by experiments.py.
# For NASA/smp encoder 'se_resnet152', micronet2timm.py emits timm's
# 'legacy_seresnet152' (same widths; leaf configs with a pretrained CNN build it,
# `cnn_converted_model_name`).
# Leaf configs use them as `_base_.<name>` (see csunet/experiments.py for why).
cnn_model_name = 'seresnet152'
cnn_converted_model_name = 'legacy_seresnet152'
