# NASA's EBC3 as shipped (held-out samples): 13 paired train, 3 val, 6 test.
_base_ = './ebc_common.py'
split_root = 'data/nasa_benchmark/ebc3_heldout'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
