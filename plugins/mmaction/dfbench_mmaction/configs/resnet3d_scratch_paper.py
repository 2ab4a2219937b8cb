# 3D ResNet-101 trained from scratch (the paper's "3D ResNet (w/o pre-training)"), 16x112x112 clips.
# The network, input and schedule are resnet3d_paper.py's; only the detector differs: its metadata
# (dfbench_mmaction/plugin.py) says it is never initialised from pretrained weights.
_base_ = 'resnet3d_paper.py'
