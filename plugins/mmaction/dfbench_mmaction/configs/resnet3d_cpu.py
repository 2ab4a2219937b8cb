# The paper's 3D ResNet at CPU size: the same code path and input (16x112x112 clips, 7x7x7 stem,
# 3x3x3 bottlenecks, temporal strides, one-neuron head), one bottleneck per stage and 8 stem
# channels instead of 64. The stem strides time in its convolution instead of its pool (same
# 8x28x28 map after the stem, same parameters): the 7x7x7 stem's weight gradient at full frame
# rate is most of a training step on a CPU. Measured on 2 cores, one step of 8 clips takes about
# 0.2 s this way and about 0.45 s with the paper's stem strides (both channels-last).
_base_ = 'resnet3d_paper.py'

model = dict(
    backbone=dict(
        depth=50,
        stage_blocks=(1, 1, 1, 1),
        base_channels=8,
        conv1_stride_t=2,
        pool1_stride_t=1),
    cls_head=dict(in_channels=256))

train_cfg = dict(max_epochs=3)
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
custom_hooks = [dict(type='ChannelsLast3dHook')]  # faster 3D convolutions on CPU (oneDNN)
