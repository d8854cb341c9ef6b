# Super3 (a single training image); out-of-distribution images: part 'different_test' (see
# super2.py).
_base_ = './super_common.py'
split_root = 'data/nasa_benchmark/super3'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
