# 3D ResNet-101 with squeeze-and-excitation in every bottleneck (Hu et al., CVPR 2018; the paper's
# equations 4-6 and Fig. 2b): MMAction2's X3D SEModule on each block's residual branch, after the
# last BatchNorm and before the identity is added, as in Hu et al.'s SE-ResNet. Reduction r = 16,
# Hu et al.'s choice for every SE-ResNet; why, and how that compares with Table 6, is in
# dfbench_mmaction/se.py. The paper trains this network from scratch (section 5).
_base_ = 'resnet3d_r101.py'

model = dict(backbone=dict(type='SEResNet3d', se_reduction=16))
