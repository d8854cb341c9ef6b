# Swin branch from Microsoft's ImageNet-1k Swin-T (or the authors' ImageNet Swin-T).
#
# Checkpoint: the leaf config sets the file, by convention
#   checkpoints/swin_{variant}_imagenet.pth      ({variant}: original | intermediate)
# a file you place there; make it with
#   python tools/model_converters/swin2csunet.py swin_tiny_patch4_window7_224.pth \
#       -o checkpoints/swin_original_imagenet.pth
#   python tools/model_converters/swin2csunet.py swin_tiny_patch4_window7_224.pth \
#       --depths 2 2 2 2 -o checkpoints/swin_intermediate_imagenet.pth
# (window 7 -> 8, ResMLP fc3 initialised to identity; see the converter's help). A missing file
# fails at init_weights with an error naming it.
# Leaf configs use this as `_base_.swin_init_cfg` (see csunet/experiments.py for why).
swin_pretraining = 'imagenet'
swin_init_cfg = dict(type='Pretrained', checkpoint=None)
