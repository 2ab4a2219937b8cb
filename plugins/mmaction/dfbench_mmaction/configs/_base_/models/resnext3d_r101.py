# Hara et al.'s 3D ResNeXt-101 32x4d (CVPR 2018): the 3D ResNet-101 of resnet3d_r101.py with
# grouped 3x3x3 convolutions (32 groups, inner widths 128-1024) in every bottleneck
# (dfbench_mmaction.models.ResNeXt3d). The backbone has 47,521,216 parameters (Hara et al.: 47.5 M).
_base_ = 'resnet3d_r101.py'

model = dict(backbone=dict(type='ResNeXt3d', groups=32, base_width=4))
