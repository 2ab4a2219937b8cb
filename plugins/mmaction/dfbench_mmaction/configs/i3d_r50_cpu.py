# MMAction2's ResNet-50 I3D at CPU size: its stem (5x7x7, temporal stride 2 and temporal pool) and
# inflation pattern (each stage keeps the setting of its first block: 3x1x1 in stages 1-3, 1x3x3
# in stage 4), one bottleneck per stage and 16 stem channels, on 16-frame clips of 64x64 crops,
# trained with the cpu schedule.
_base_ = [
    '_base_/models/i3d_r50.py', '_base_/datasets/ffpp_faces.py',
    '_base_/schedules/adamw_lr1e-3_cpu.py', '_base_/default_runtime.py'
]

model = dict(
    backbone=dict(stage_blocks=(1, 1, 1, 1), base_channels=16, inflate=((1, ), (1, ), (1, ), (0, ))),
    cls_head=dict(in_channels=512, dropout_ratio=0.0))

train_dataloader = dict(batch_size=16, dataset=dict(crop_size=64))
val_dataloader = dict(dataset=dict(crop_size=64))
