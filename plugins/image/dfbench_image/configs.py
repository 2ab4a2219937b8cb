"""MMEngine configs of the CNN image baselines: one shared base, and per detector and size what differs.

The frame detectors differ only in network, normalisation, what part of the crop the network
sees, and schedule, so a base dict plus small per-detector overrides keeps every choice in one
readable place (the role MMAction2's ``_base_`` files play for the mmaction plugin). The core's
decisions (work_dir, seed, epochs, class weights, frames per video, trunks, launcher) are applied
on top by :meth:`dfbench_image.detector.FrameCNNDetector.config`.

Schedules: where the original paper states one it is used at the paper size (FF++'s XceptionNet:
Adam, learning rate 2e-4, batch 32, 3 head-only epochs then 15; MesoNet: Adam 1e-3, batches of
75, the rate divided by 10 every 1,000 iterations down to 1e-6; Rahmouni et al.: Adam 1e-4,
batches of 50), otherwise Adam 1e-3 with batches of 32 over 20 epochs, this benchmark's choice.
The cpu sizes keep the optimiser and shorten the run (measured on the embedded synthetic set,
docs/image-baselines.md).
"""

from __future__ import annotations

import copy

from mmengine.config import Config

SCOPE = "dfbench_image"
PIXELS_0_1 = dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0])  # x / 255
PIXELS_FFPP = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])  # FF++: Normalize([0.5]*3, [0.5]*3)
PIXELS_RAW = dict(mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0])  # 0-255: residual quantisers work in pixel units


def _runtime() -> dict:
    return dict(
        default_scope=SCOPE,
        default_hooks=dict(
            runtime_info=dict(type="RuntimeInfoHook"),
            timer=dict(type="IterTimerHook"),
            logger=dict(type="LoggerHook", interval=50, ignore_last=False),
            param_scheduler=dict(type="ParamSchedulerHook"),
            # Keep the last epoch (to resume) and the best epoch by validation video AUC.
            checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=1, save_last=True,
                            save_best="video/auc", rule="greater",
                            backend_args=dict(backend="dfbench_atomic")),  # dfbench.checkpoints: atomic saves
            sampler_seed=dict(type="DistSamplerSeedHook"),
        ),
        custom_hooks=[dict(type="ValHistoryHook")],
        env_cfg=dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
                     dist_cfg=dict(backend="nccl")),
        log_processor=dict(type="LogProcessor", window_size=20, by_epoch=True),
        visualizer=dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend")]),
        log_level="INFO",
        load_from=None,
        resume=False,
        randomness=dict(seed=0, diff_rank_seed=False, deterministic=False),
    )


def _frame_config(network: dict, *, crop_size: int, input_size: int, pixels: dict, epochs: int, batch_size: int,
                  optimizer: dict, test_view: str = "center", param_scheduler: list | None = None) -> dict:
    def loader(mode: str, batch: int, shuffle: bool) -> dict:
        return dict(batch_size=batch, num_workers=0, persistent_workers=False,
                    sampler=dict(type="DefaultSampler", shuffle=shuffle), collate_fn=dict(type="default_collate"),
                    dataset=dict(type="FaceFrameDataset", ann_file="", mode=mode, crop_size=crop_size))

    return dict(
        _runtime(),
        model=dict(type="FrameClassifier", network=network, input_size=input_size, test_view=test_view,
                   class_weight=None,
                   data_preprocessor=dict(type="ImgDataPreprocessor", **pixels)),
        # num_workers=0: on a few CPU cores, loader processes only compete with torch's threads,
        # while reading one memory-mapped frame costs microseconds.
        train_dataloader=loader("train", batch_size, True),
        val_dataloader=loader("trunks", 64, False),
        val_evaluator=dict(type="VideoAUCMetric"),
        train_cfg=dict(type="EpochBasedTrainLoop", max_epochs=epochs, val_begin=1, val_interval=1),
        val_cfg=dict(type="ValLoop"),
        optim_wrapper=dict(type="OptimWrapper", optimizer=optimizer),
        param_scheduler=param_scheduler or [],
    )


def _adam(lr: float) -> dict:
    return dict(type="Adam", lr=lr, betas=(0.9, 0.999), eps=1e-8)


# MesoNet: "learning rate 1e-3 ... reduced by a factor of 10 every 1000 iterations" down to 1e-6.
_MESO_DECAY = [dict(type="MultiStepLR", milestones=[1000, 2000, 3000], gamma=0.1, by_epoch=False)]


def _xception(size: str) -> dict:
    if size == "paper":
        return _frame_config(dict(type="LegacyXception", width=1.0), crop_size=299, input_size=299,
                             pixels=PIXELS_FFPP, epochs=18, batch_size=32, optimizer=_adam(2e-4))
    # Width 1/4 (1.35 M parameters): full width trains at 1.2 s per 32 64x64 frames on 2 CPU
    # cores, a quarter of the width at 0.19 s (measured), same depth and topology.
    return _frame_config(dict(type="LegacyXception", width=0.25), crop_size=64, input_size=64,
                         pixels=PIXELS_FFPP, epochs=8, batch_size=32, optimizer=_adam(1e-3))


def _meso(network: str, size: str) -> dict:
    crop = 256 if size == "paper" else 64
    return _frame_config(dict(type=network, input_size=crop), crop_size=crop, input_size=crop, pixels=PIXELS_0_1,
                         epochs=20 if size == "paper" else 10, batch_size=75 if size == "paper" else 32,
                         optimizer=_adam(1e-3), param_scheduler=copy.deepcopy(_MESO_DECAY))


def _bayar_stamm(size: str) -> dict:
    # 227x227 patches of 256 crops at the paper size (random in training, centre at test), as an
    # AlexNet-era Caffe pipeline feeds its network; the whole 64x64 crop at cpu size.
    input_size = 227 if size == "paper" else 64
    return _frame_config(dict(type="BayarStamm", input_size=input_size), crop_size=256 if size == "paper" else 64,
                         input_size=input_size, pixels=PIXELS_0_1, epochs=20 if size == "paper" else 10,
                         batch_size=32, optimizer=_adam(1e-4))


def _rahmouni(size: str) -> dict:
    # 100x100 patches (their patch size) of 256 crops at the paper size, the video frame's score the
    # mean over a 3x3 grid of patches; the whole 64x64 crop at cpu size. No pooling before the
    # statistics makes it the costliest cpu-size network per frame (2.5 min per epoch of 3,072
    # frames on 2 shared cores, measured); 5 epochs, as it reached val AUC 1.0 by epoch 2.
    return _frame_config(dict(type="Rahmouni", filters=(32, 64)), crop_size=256 if size == "paper" else 64,
                         input_size=100 if size == "paper" else 64, test_view="grid", pixels=PIXELS_0_1,
                         epochs=20 if size == "paper" else 5, batch_size=50, optimizer=_adam(1e-4))


def _cozzolino(size: str) -> dict:
    crop = 256 if size == "paper" else 64
    return _frame_config(dict(type="Cozzolino"), crop_size=crop, input_size=crop, pixels=PIXELS_RAW,
                         epochs=20 if size == "paper" else 10, batch_size=32, optimizer=_adam(1e-3))


BUILDERS = {
    "xception": _xception,
    "mesonet": lambda size: _meso("Meso4", size),
    "mesoinception": lambda size: _meso("MesoInception4", size),
    "bayar_stamm": _bayar_stamm,
    "rahmouni": _rahmouni,
    "cozzolino": _cozzolino,
}


def load_config(name: str, size: str) -> Config:
    """The detector's MMEngine config at ``size`` (``paper`` or ``cpu``)."""
    if name not in BUILDERS:
        raise KeyError(f"no config for image detector {name!r}; known: {', '.join(BUILDERS)}")
    if size not in ("paper", "cpu"):
        raise KeyError(f"no size {size!r}; sizes are paper and cpu")
    return Config(BUILDERS[name](size))
