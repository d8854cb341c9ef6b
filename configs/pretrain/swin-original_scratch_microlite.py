# Swin-T+ResMLP "original" (2, 2, 6, 2) pretrained on MicroLite from random weights.
_base_ = ['./_base_/swin_resmlp_cls.py', './_base_/microlite.py', './_base_/schedule_30e.py',
          './_base_/runtime.py']
