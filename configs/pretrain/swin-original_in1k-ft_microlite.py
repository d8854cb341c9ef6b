# Swin-T+ResMLP "original" (2, 2, 6, 2): ImageNet-1k Swin-T fine-tuned on MicroLite.
# Checkpoint (Microsoft's Swin-T, window 7 -> 8 bias tables interpolated, fc3 = identity):
#   python tools/model_converters/swin2csunet.py swin_tiny_patch4_window7_224.pth \
#       -o checkpoints/swin-original_in1k_csunet.pth
_base_ = ['./_base_/swin_resmlp_cls.py', './_base_/microlite.py', './_base_/schedule_30e.py',
          './_base_/runtime.py']
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained', checkpoint='checkpoints/swin-original_in1k_csunet.pth')))
optim_wrapper = dict(optimizer=dict(lr=1e-4))  # fine-tuning: lower than from scratch
