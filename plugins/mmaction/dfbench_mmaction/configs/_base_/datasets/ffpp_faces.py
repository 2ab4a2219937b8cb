# Face-crop clips of FaceForensics++ videos (cached by the dfbench core as .npy crops).
# The annotation files are written by the detector for each run; clip_len, trunk_len and
# crop_size are the core's decision and are overridden from its FitConfig.
dataset_type = 'FaceCropDataset'
clip_len = 16
crop_size = 112
trunk_len = 250  # the paper scores a video as the mean over trunks of 250 frames

train_pipeline = [
    dict(type='SampleFaceFrames'),  # one random clip per video and epoch
    dict(type='LoadFaceCrops'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('video_index', 'video_key')),
]
val_pipeline = [
    dict(type='SampleFaceFrames'),  # every frame of the trunk
    dict(type='LoadFaceCrops'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('video_index', 'video_key', 'trunk')),
]

# num_workers=0: on a few CPU cores, worker processes only compete with torch's compute
# threads, while reading one memory-mapped clip costs well under a millisecond.
# GPU configs raise it.
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),  # a list of inputs and ActionDataSamples
    dataset=dict(
        type=dataset_type,
        ann_file='',
        sampling='clip',
        clip_len=clip_len,
        trunk_len=trunk_len,
        crop_size=crop_size,
        pipeline=train_pipeline))
# One trunk per batch: trunks differ in length (a last partial trunk, short videos), and
# stacking would pad them.
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type=dataset_type,
        ann_file='',
        sampling='trunks',
        clip_len=clip_len,
        trunk_len=trunk_len,
        crop_size=crop_size,
        pipeline=val_pipeline,
        test_mode=True))
val_evaluator = dict(type='VideoAUCMetric')  # video AUC: the mean of trunk scores per video
