# CNN branch pretrained on ImageNet -> MicroNet (NASA's ImageNet encoder fine-tuned on MicroNet).
#
# Checkpoint: the leaf config sets the file, by convention
#   checkpoints/cnn_{encoder}_imagenet_micronet.pth
# ({encoder}: the configs/_base_/encoders/ fragment name, e.g.
# cnn_seresnext50_32x4d_imagenet_micronet.pth),
# a file you place there; make it with
#   python tools/model_converters/micronet2timm.py <NASA name> --download \
#       --pretraining imagenet-microscopynet -o checkpoints/cnn_{encoder}_imagenet_micronet.pth
# (<NASA name>: the smp encoder name in the encoder fragment's comment, e.g. se_resnext50_32x4d).
# The converter writes the layout of its timm model (`cnn_converted_model_name`, e.g.
# legacy_seresnext50_32x4d, tf_efficientnet_b4), so leaf configs with a pretrained CNN build that
# model. A missing file fails at init_weights with an error naming it; `checkpoint=None` (a leaf
# that forgot to set it) fails with "Pretrained needs `checkpoint`".
# Leaf configs use this as `_base_.cnn_init_cfg` (see csunet/experiments.py for why).
cnn_pretraining = 'imagenet_micronet'
cnn_init_cfg = dict(type='Pretrained', checkpoint=None)
