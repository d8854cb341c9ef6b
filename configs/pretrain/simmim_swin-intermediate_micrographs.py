# SimMIM of CS-UNet's Swin branch, "intermediate" depths (2, 2, 2, 2); otherwise as
# simmim_swin-original_micrographs.py (its comments give the commands); convert with
#   python tools/model_converters/mmpretrain2csunet.py work_dirs/<this>/iter_2000.pth \
#       -o checkpoints/swin_intermediate_ssl.pth
_base_ = ['./simmim_swin-original_micrographs.py']
model = dict(backbone=dict(arch='intermediate'))
