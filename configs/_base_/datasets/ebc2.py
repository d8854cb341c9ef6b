# NASA benchmark EBC2 (converted by tools/dataset_converters/nasa_benchmark.py).
_base_ = './ebc_common.py'
split_root = 'data/nasa_benchmark/ebc2'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
