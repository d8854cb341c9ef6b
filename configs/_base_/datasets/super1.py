# NASA benchmark Super1 (converted by tools/dataset_converters/nasa_benchmark.py).
_base_ = './super_common.py'
split_root = 'data/nasa_benchmark/super1'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
