# I3D (Carreira & Zisserman, CVPR 2017): Inception-v1 inflated to 3D, 7x7x7 stem with stride 2,
# nine inflated Inception blocks, 1024 channels out (dfbench_mmaction.inception_i3d.InceptionI3d,
# module names as in the authors' PyTorch port so its checkpoints load). One output neuron with
# dropout 0.5 (the port's dropout) replaces the Kinetics classifier. 64x224x224 clips give an
# 8x7x7 feature map, which the head averages.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='InceptionI3d', width=1.0),
    cls_head=dict(
        type='BinaryClsHead',
        in_channels=1024,
        dropout_ratio=0.5,
        init_std=0.01,
        loss_cls=dict(type='ClassWeightedBCELoss', class_weight=None)),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
