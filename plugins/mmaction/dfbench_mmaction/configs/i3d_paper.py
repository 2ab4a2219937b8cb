# I3D (Inception-v1 inflated), 64x224x224 clips, as in the paper.
_base_ = [
    '_base_/models/i3d_inception_v1.py', '_base_/datasets/ffpp_faces.py',
    '_base_/schedules/sgd_lr1e-3.py', '_base_/default_runtime.py'
]

# The paper's I3D input, 64 frames of 224x224, sized for a GPU: 8 clips per GPU per step (the paper
# trained on 4 GPUs).
train_dataloader = dict(
    num_workers=8, persistent_workers=True, dataset=dict(clip_len=64, crop_size=224))
val_dataloader = dict(
    num_workers=4, persistent_workers=True, dataset=dict(clip_len=64, crop_size=224))
