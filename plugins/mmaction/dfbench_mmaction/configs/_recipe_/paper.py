# The built-in 3D CNNs' recipe at the paper size, for a model given in code (an MMAction2 model-zoo
# config's, an outside plugin's; dfbench_mmaction.detector.recipe sets `model`): the face-crop data
# pipeline, the paper's schedule (SGD 1e-3, 30 epochs) and the shared runtime, sized for a GPU.
_base_ = [
    '../_base_/datasets/ffpp_faces.py', '../_base_/schedules/sgd_lr1e-3.py',
    '../_base_/default_runtime.py'
]

train_dataloader = dict(num_workers=8, persistent_workers=True)
val_dataloader = dict(num_workers=4, persistent_workers=True)
