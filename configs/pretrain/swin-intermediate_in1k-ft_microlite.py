# Swin-T+ResMLP "intermediate" (2, 2, 2, 2): ImageNet-1k Swin-T fine-tuned on MicroLite.
# Checkpoint: Microsoft's Swin-T converted whole; the (2, 2, 2, 2) model loads stage 2's first 2 of
# 6 blocks (the other 4 are reported as unexpected keys; every model tensor is loaded, checked:
# "loaded 141, missing 0, unexpected 60 ... 100.0% of the branch"); --depths only sets the
# converter's load check:
#   python tools/model_converters/swin2csunet.py swin_tiny_patch4_window7_224.pth \
#       --depths 2 2 2 2 -o checkpoints/swin-intermediate_in1k_csunet.pth
_base_ = ['./_base_/swin_resmlp_cls.py', './_base_/microlite.py', './_base_/schedule_30e.py',
          './_base_/runtime.py']
model = dict(backbone=dict(
    depths='intermediate',
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/swin-intermediate_in1k_csunet.pth')))
optim_wrapper = dict(optimizer=dict(lr=1e-4))  # fine-tuning: lower than from scratch
