# MMAction2's ResNet-50 I3D, 32x224x224 clips (its Kinetics recipe's clip length), for users of
# MMAction2's model zoo. Not one of the paper's detectors.
_base_ = [
    '_base_/models/i3d_r50.py', '_base_/datasets/ffpp_faces.py',
    '_base_/schedules/sgd_lr1e-3.py', '_base_/default_runtime.py'
]

# Sized for a GPU: 8 clips per GPU per step, as MMAction2's i3d_r50 Kinetics configs.
train_dataloader = dict(
    num_workers=8, persistent_workers=True, dataset=dict(clip_len=32, crop_size=224))
val_dataloader = dict(
    num_workers=4, persistent_workers=True, dataset=dict(clip_len=32, crop_size=224))
