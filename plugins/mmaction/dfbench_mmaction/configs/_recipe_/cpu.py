# The built-in 3D CNNs' recipe at the cpu size, for a model given in code (an MMAction2 model-zoo
# config's, an outside plugin's; dfbench_mmaction.detector.recipe sets `model`): the face-crop data
# pipeline, the cpu schedule (AdamW 1e-3, 20 epochs, 16 clips a step) and the shared runtime.
_base_ = [
    '../_base_/datasets/ffpp_faces.py', '../_base_/schedules/adamw_lr1e-3_cpu.py',
    '../_base_/default_runtime.py'
]

train_dataloader = dict(batch_size=16)
