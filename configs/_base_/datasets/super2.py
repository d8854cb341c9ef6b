# Super2; its out-of-distribution images are the part 'different_test' (to test on them, set
# test_dataloader.dataset ann_file='splits/different_test.txt' and data_prefix to different_test).
_base_ = './super_common.py'
split_root = 'data/nasa_benchmark/super2'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
