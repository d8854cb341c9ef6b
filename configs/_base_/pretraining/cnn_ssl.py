# CNN branch pretrained self-supervised on your unlabelled micrographs (SimSiam, DenseCL or MoCo v2
# through mmpretrain: configs/pretrain/{simsiam,densecl,mocov2}_resnet50_micrographs.py).
#
# Checkpoint: the leaf config sets the file, by convention
#   checkpoints/cnn_{encoder}_ssl.pth
# ({encoder}: resnet50 or resnext101_32x8d, whose mmpretrain and timm layouts agree:
# csunet.experiments.SSL_ENCODERS) a file you place there: the mmpretrain checkpoint itself, e.g.
#   cp work_dirs/simsiam_resnet50_micrographs/iter_2000.pth checkpoints/cnn_resnet50_ssl.pth
# Its `backbone.*` tensors carry timm's names (hence `prefix`); projector, predictor and momentum
# encoder are not read. A missing file fails at init_weights with an error naming it.
# Leaf configs use this as `_base_.cnn_init_cfg` (see csunet/experiments.py for why).
cnn_pretraining = 'ssl'
cnn_init_cfg = dict(type='Pretrained', checkpoint=None, prefix='backbone.')
