# CNN encoder mobilenetv2_100: its timm model. The widths at strides 4/8/16/32 are
# timm's feature_info (TimmCNN(cnn_model_name).out_channels), written into leaves by experiments.py.
# micronet2timm.py emits this same timm model for NASA/smp encoder 'mobilenet_v2'.
# Leaf configs use them as `_base_.<name>` (see csunet/experiments.py for why).
cnn_model_name = 'mobilenetv2_100'
cnn_converted_model_name = 'mobilenetv2_100'
