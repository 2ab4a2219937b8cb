# The paper's 3D ResNeXt with non-local at CPU size: the same code path and input as
# resnext3d_nl_paper.py, one block per stage, 8 stem channels, and 8 groups of inner width twice
# the block's planes (the 32x4d ratio), with the non-local block after the last stage.
# The stem strides time in its convolution instead of its pool, as in resnet3d_cpu.py.
_base_ = 'resnext3d_nl_paper.py'

model = dict(
    backbone=dict(
        depth=50,
        stage_blocks=(1, 1, 1, 1),
        base_channels=8,
        conv1_stride_t=2,
        pool1_stride_t=1,
        groups=8,
        base_width=16,
        non_local=((0, ), (0, ), (0, ), (1, ))),
    cls_head=dict(in_channels=256))

train_cfg = dict(max_epochs=3)
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
custom_hooks = [dict(type='ChannelsLast3dHook')]  # faster 3D convolutions on CPU (oneDNN)
