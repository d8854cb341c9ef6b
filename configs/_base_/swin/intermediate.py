# Swin-T "intermediate" variant of the CS-UNet Swin branch. Its depths live in one table,
# SWIN_DEPTHS (csunet/models/backbones/swin_resmlp.py); the decoder mirrors encoder stages
# 2, 1, 0 (Swin-Unet), so SwinExpandDecoder(decoder_depths='intermediate') derives its depths too.
# Leaf configs use the name as `_base_.swin_variant` (see csunet/experiments.py for why).
swin_variant = 'intermediate'
