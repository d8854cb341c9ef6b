# CS-UNet paper's one-shot EBC-3: ONE training image (first paired EBC3 train stem in sorted
# order, chosen by the converter), EBC3's own val (3) and test (6).
_base_ = './ebc_common.py'
split_root = 'data/nasa_benchmark/ebc3'
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(data_root=split_root))
