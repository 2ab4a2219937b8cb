# The paper's 3D ResNeXt with non-local at CPU size: resnet3d_cpu.py (stem, schedule, input) with
# the ResNeXt bottleneck, 8 groups of inner width twice the block's planes (the 32x4d ratio), and
# the embedded-Gaussian non-local block after the last stage, configured as resnext3d_nl_paper.py.
_base_ = 'resnet3d_cpu.py'

model = dict(
    backbone=dict(
        type='ResNeXt3d',
        groups=8,
        base_width=16,
        non_local=((0, ), (0, ), (0, ), (1, )),
        non_local_cfg=dict(
            mode='embedded_gaussian',  # the paper's eq. 3
            use_scale=False,
            sub_sample=True,
            norm_cfg=dict(type='BN3d', requires_grad=True))))
