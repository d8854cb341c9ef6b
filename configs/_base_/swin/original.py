# Swin-T "original" variant of the CS-UNet Swin branch: depths (2, 2, 6, 2); the decoder mirrors
# encoder stages 2, 1, 0 (Swin-Unet), so its depths are (6, 2, 2).
# Leaf configs use these as `_base_.<name>` (see tools/misc/experiments.py for why).
swin_variant = 'original'
swin_depths = (2, 2, 6, 2)
swin_decoder_depths = (6, 2, 2)
