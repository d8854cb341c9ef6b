# Super4: its test part is NASA's out-of-distribution set (same 5 images as Super2/3's
# different_test).
_base_ = './super_common.py'
split_root = 'data/nasa_benchmark/super4'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
