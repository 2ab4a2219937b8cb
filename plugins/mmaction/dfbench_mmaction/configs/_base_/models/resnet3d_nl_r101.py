# 3D ResNet-101 with a non-local block (Wang et al., CVPR 2018), as the paper's Table 1 lays it
# out: one embedded-Gaussian block (equation 3: exp(alpha(x_i)^T beta(x_j)), normalised by their
# sum) after the last residual stage (Res_4, 2048 channels), before the average pool; here, after
# the last block of stage 4 (MMAction2 puts a block's non-local after its residual sum and ReLU).
# That placement reproduces Table 6's count up to two bias vectors (plugins/mmaction/README.md):
# the paper's non-local adds 8,397,824 parameters, mmcv's NonLocal3d 8,395,776, because its output
# convolution, followed by BatchNorm, has no bias. (Four blocks in stage 3 would add 8,402,944:
# 5,120 more than Table 6 with its 2048x2 last layer; and Table 1 draws one block, after Res_4.)
_base_ = 'resnet3d_r101.py'

model = dict(
    backbone=dict(
        non_local=((0, 0, 0), (0, 0, 0, 0), (0, ) * 23, (0, 0, 1)),
        non_local_cfg=dict(
            mode='embedded_gaussian',
            use_scale=False,  # equation 3 has no 1/sqrt(d) scaling
            sub_sample=True,  # Wang et al.'s max pool on the phi and g branches
            norm_cfg=dict(type='BN3d', requires_grad=True))))
