# The paper states only the learning rate (1e-3). The optimiser is SGD with momentum 0.9, the
# optimiser of Hara et al.'s 3D ResNet/ResNeXt code these models come from, with MMAction2's
# usual weight decay and gradient clipping for 3D ResNets. The rate stays constant (the paper
# names no schedule); the epoch count is this benchmark's choice.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = []
