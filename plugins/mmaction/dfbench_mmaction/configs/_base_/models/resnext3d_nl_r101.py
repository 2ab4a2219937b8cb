# Hara et al.'s 3D ResNeXt-101 32x4d with a non-local block (Wang et al., CVPR 2018).
# Grouped 3x3x3 convolutions (32 groups, inner widths 128-1024) replace the ResNet ones.
# Table 1 of the paper puts one embedded-Gaussian non-local block after the last residual
# stage, before the average pool: here, after the last block of stage 4. That placement also
# reproduces the paper's Table 6 count for 3D ResNet with non-local up to 2,048 parameters
# (mmcv's NonLocal3d output conv has no bias under its BatchNorm).
_base_ = 'resnet3d_r101.py'

model = dict(
    backbone=dict(
        type='ResNeXt3d',
        groups=32,
        base_width=4,
        non_local=((0, 0, 0), (0, 0, 0, 0), (0, ) * 23, (0, 0, 1)),
        non_local_cfg=dict(
            mode='embedded_gaussian',  # the paper's eq. 3: exp(alpha(x_i)^T beta(x_j))
            use_scale=False,
            sub_sample=True,
            norm_cfg=dict(type='BN3d', requires_grad=True))))
