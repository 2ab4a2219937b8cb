# The paper's 3D ResNet trained from scratch, at CPU size: resnet3d_cpu.py unchanged (the
# detector differs from resnet3d only in never starting from pretrained weights).
_base_ = 'resnet3d_cpu.py'
