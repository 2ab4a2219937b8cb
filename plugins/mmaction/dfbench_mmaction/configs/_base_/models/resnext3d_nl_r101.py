# Hara et al.'s 3D ResNeXt-101 32x4d with the non-local block of resnet3d_nl_r101.py (Wang et al.,
# CVPR 2018): one embedded-Gaussian block after the last residual stage, where the paper's Table 1
# puts it.
_base_ = 'resnext3d_r101.py'

model = dict(
    backbone=dict(
        non_local=((0, 0, 0), (0, 0, 0, 0), (0, ) * 23, (0, 0, 1)),
        non_local_cfg=dict(
            mode='embedded_gaussian',  # the paper's eq. 3: exp(alpha(x_i)^T beta(x_j))
            use_scale=False,
            sub_sample=True,
            norm_cfg=dict(type='BN3d', requires_grad=True))))
