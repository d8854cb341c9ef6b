# Everything a CS-UNet experiment of the paper shares: the model (_base_/models/csunet.py), the
# runtime and NASA's two-phase, epoch-based schedule. Leaf configs (configs/csunet/, written by
# tools/misc/experiments.py) add a dataset, an encoder, a Swin variant and the two pretraining
# fragments, and assemble `model` from their variables (`_base_.cnn_model_name` ...): mmengine
# refuses a key set by two sibling bases, so only this file sets `model`.
_base_ = [
    './models/csunet.py',
    './default_runtime.py',
    './schedules/nasa_two_phase.py',
]
log_processor = dict(by_epoch=True)
