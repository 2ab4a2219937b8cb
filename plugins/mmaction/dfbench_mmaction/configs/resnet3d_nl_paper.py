# 3D ResNet-101 with one embedded-Gaussian non-local block after the last stage, 16x112x112 clips,
# as in the paper's Table 1.
_base_ = [
    '_base_/models/resnet3d_nl_r101.py', '_base_/datasets/ffpp_faces.py',
    '_base_/schedules/sgd_lr1e-3.py', '_base_/default_runtime.py'
]

# Sized for a GPU: 8 clips per GPU per step (the paper trained on 4 GPUs).
train_dataloader = dict(num_workers=8, persistent_workers=True)
val_dataloader = dict(num_workers=4, persistent_workers=True)
