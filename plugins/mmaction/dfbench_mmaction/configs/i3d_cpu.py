# The paper's I3D at CPU size: the same Inception-v1 network (stem, nine inflated Inception blocks,
# strides, TF "SAME" padding) at a quarter of the width (256 channels out), on 16-frame clips of
# 64x64 face crops (the paper size uses 64x224x224), trained with the cpu schedule.
_base_ = [
    '_base_/models/i3d_inception_v1.py', '_base_/datasets/ffpp_faces.py',
    '_base_/schedules/adamw_lr1e-3_cpu.py', '_base_/default_runtime.py'
]

model = dict(
    # PyTorch's BatchNorm momentum: the port's 0.01 lets running statistics trail the weights for
    # hundreds of steps, longer than a whole cpu-size training run.
    backbone=dict(width=0.25, norm_cfg=dict(type='BN3d', eps=1e-3, momentum=0.1)),
    cls_head=dict(in_channels=256, dropout_ratio=0.0))

train_dataloader = dict(batch_size=16, dataset=dict(crop_size=64))
val_dataloader = dict(dataset=dict(crop_size=64))
