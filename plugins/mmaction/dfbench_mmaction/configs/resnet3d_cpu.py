# The paper's 3D ResNet at CPU size, for the embedded synthetic set on a 2-core machine: the same
# code path (MMAction2 ResNet3d bottlenecks, 3x3x3 convolutions, temporal strides, one-neuron
# head), one bottleneck per stage and 16 stem channels, on 16-frame clips of 64x64 face crops
# (the paper size uses 112x112), trained with the cpu schedule (AdamW, 20 epochs, 16 clips a step).
# The stem is 3x7x7 with temporal stride 2 instead of 7x7x7 with a temporal pool: the stem's weight
# gradient at full frame rate is most of a CPU training step.
_base_ = [
    '_base_/models/resnet3d_r101.py', '_base_/datasets/ffpp_faces.py',
    '_base_/schedules/adamw_lr1e-3_cpu.py', '_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        depth=50,
        stage_blocks=(1, 1, 1, 1),
        base_channels=16,
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=2,
        pool1_stride_t=1),
    cls_head=dict(in_channels=512, dropout_ratio=0.0))

train_dataloader = dict(batch_size=16, dataset=dict(crop_size=64))
val_dataloader = dict(dataset=dict(crop_size=64))
