# Swin branch pretrained self-supervised (SimMIM) on your unlabelled micrographs
# (configs/pretrain/simmim_swin-{original,intermediate}_micrographs.py).
#
# Checkpoint: the leaf config sets the file, by convention
#   checkpoints/swin_{variant}_ssl.pth      ({variant}: original | intermediate)
# a file you place there; make it from the mmpretrain checkpoint with
#   python tools/model_converters/mmpretrain2csunet.py \
#       work_dirs/simmim_swin-original_micrographs/iter_2000.pth \
#       -o checkpoints/swin_original_ssl.pth
# It holds the Swin branch under 'backbone.swin.' (hence `prefix`) and a mirrored decoder init;
# the decoder part loads only through `load_from = <same file>` (optional). A missing file fails
# at init_weights with an error naming it.
# Leaf configs use this as `_base_.swin_init_cfg` (see csunet/experiments.py for why).
swin_pretraining = 'ssl'
swin_init_cfg = dict(type='Pretrained', checkpoint=None, prefix='backbone.swin.')
