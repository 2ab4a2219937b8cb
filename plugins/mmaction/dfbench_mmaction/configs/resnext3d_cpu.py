# The paper's 3D ResNeXt at CPU size: resnet3d_cpu.py (stem, schedule, input) with the ResNeXt
# bottleneck, 8 groups of inner width twice the block's planes (the 32x4d ratio).
_base_ = 'resnet3d_cpu.py'

model = dict(backbone=dict(type='ResNeXt3d', groups=8, base_width=16))
