# MMAction2's "I3D": a ResNet-50 inflated to 3D (5x7x7 stem, 3x1x1 convolutions in alternate
# blocks), for users of MMAction2's model zoo (configs/recognition/i3d/). The backbone settings are
# those of MMAction2's configs/_base_/models/i3d_r50.py (tests/test_mmaction_models.py checks them
# against the installed file), except offline: no torchvision ResNet-50 to inflate. One output
# neuron replaces its I3DHead. Not a detector of the paper, whose I3D is the Inception one.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        pretrained2d=False,  # MMAction2: True, inflating torchvision://resnet50 (a download)
        pretrained=None,
        depth=50,
        conv1_kernel=(5, 7, 7),
        conv1_stride_t=2,
        pool1_stride_t=2,
        conv_cfg=dict(type='Conv3d'),
        norm_eval=False,
        inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)),
        zero_init_residual=False),
    cls_head=dict(
        type='BinaryClsHead',
        in_channels=2048,
        dropout_ratio=0.5,
        init_std=0.01,
        loss_cls=dict(type='ClassWeightedBCELoss', class_weight=None)),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
