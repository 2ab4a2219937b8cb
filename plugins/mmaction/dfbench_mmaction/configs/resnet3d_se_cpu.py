# The paper's 3D ResNet with squeeze-and-excitation at CPU size: resnet3d_cpu.py (one bottleneck per
# stage, 16 stem channels, 64x64 crops, cpu schedule) with an SE module in every bottleneck,
# configured as resnet3d_se_paper.py (r = 16; X3D's SEModule keeps at least 8 hidden units).
_base_ = 'resnet3d_cpu.py'

model = dict(backbone=dict(type='SEResNet3d', se_reduction=16))
