# Runtime shared by every dfbench_mmaction config (MMAction2's default_runtime, offline and
# choosing its checkpoint on the validation split's video AUC).
default_scope = 'mmaction'

# Registers dfbench's pieces: ResNeXt3d, SEResNet3d, InceptionI3d, BinaryClsHead, FaceCropDataset in
# MMAction2's registries; the MMEngine base's loss, metric, hooks and wrappers (runtime, metrics) in
# MMEngine's root ones. Importing dfbench_mmaction installs the mmaction2 1.2.0 import shim first.
custom_imports = dict(
    imports=[
        'dfbench_mmaction.models', 'dfbench_mmaction.se',
        'dfbench_mmaction.inception_i3d', 'dfbench_mmaction.datasets',
        'dfbench_mmaction.metrics', 'dfbench_mmaction.runtime'
    ],
    allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keep the last epoch (to resume) and the best epoch by validation video AUC.
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_last=True,
        save_best='video/auc',
        rule='greater',
        # Saved through dfbench's atomic writer (dfbench.checkpoints.register_atomic_backend).
        backend_args=dict(backend='dfbench_atomic')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'

load_from = None  # offline: no pretrained weights are fetched
resume = False
randomness = dict(seed=0, diff_rank_seed=False, deterministic=False)
