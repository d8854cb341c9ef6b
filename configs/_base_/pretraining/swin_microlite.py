# Swin branch pretrained on MicroLite (our mmpretrain classification pretraining of SwinResMLP
# from random weights).
#
# Checkpoint: the leaf config sets the file, by convention
#   checkpoints/swin_{variant}_microlite.pth      ({variant}: original | intermediate)
# a file you place there; make it from the mmpretrain checkpoint with
#   python tools/model_converters/mmpretrain2csunet.py <mmpretrain .pth> \
#       -o checkpoints/swin_original_microlite.pth
# It holds the Swin branch under 'backbone.swin.' (hence `prefix`) and a mirrored decoder init;
# the decoder part loads only through `load_from = <same file>` (optional). For the authors'
# released MicroLite Swin-T use instead
#   python tools/model_converters/swin2csunet.py <authors .pth> --out-prefix backbone.swin. \
#       -o checkpoints/swin_original_microlite.pth
# A missing file fails at init_weights with an error naming it.
# Leaf configs use this as `_base_.swin_init_cfg` (see csunet/experiments.py for why).
swin_pretraining = 'microlite'
swin_init_cfg = dict(type='Pretrained', checkpoint=None, prefix='backbone.swin.')
