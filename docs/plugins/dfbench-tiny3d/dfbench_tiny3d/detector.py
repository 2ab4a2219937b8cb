"""A tiny 3D CNN trained by a plain PyTorch loop: the whole detector contract, no framework.

Each epoch sees one random clip of every training video, its loss weighted by the video's class;
the epoch with the best validation AUC is kept (``best.pt``, a state dict). A video scores the
mean over its trunks of the network's probability; the network is fully convolutional in time,
so a whole trunk is one input.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from dfbench.clips import clip_indices, random_clip_start, trunks
from dfbench.detector import FitProgress, FitReport, Option

EPOCHS = 5  # the schedule when --epochs is not given


def network() -> nn.Module:
    return nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.BatchNorm3d(8), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
                         nn.Conv3d(8, 16, 3, padding=1), nn.BatchNorm3d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(16, 1))


def clip(video, start: int, length: int) -> torch.Tensor:
    """Frames ``start`` on of a video's crops as a (1, 3, T, S, S) batch in [-1, 1] (looped if too short)."""
    frames = np.load(video.crops, mmap_mode="r")[clip_indices(video.num_frames, length, start)]
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1


def video_scores(net: nn.Module, videos, trunk_len: int) -> list[float]:
    """Each video's mean over its trunks of sigmoid(logit), the core's trunks."""
    net.eval()
    with torch.no_grad():
        return [float(np.mean([torch.sigmoid(net(clip(v, a, b - a))).item()
                               for a, b in trunks(v.num_frames, trunk_len)])) for v in videos]


class Tiny3D:
    options = {"lr": Option(float, "AdamW's learning rate (1e-3)")}  # the --set keys this detector takes

    def fit(self, train, val, config) -> FitReport:
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        net = network()
        optimiser = torch.optim.AdamW(net.parameters(), lr=config.options.get("lr", 1e-3))
        weights = config.class_weights or (1.0, 1.0)
        epochs, history, best = config.epochs or EPOCHS, [], None
        config.work_dir.mkdir(parents=True, exist_ok=True)
        for epoch in range(1, epochs + 1):
            net.train()
            for i in rng.permutation(len(train)):
                v = train[i]
                logit = net(clip(v, random_clip_start(v.num_frames, config.clip_len, rng), config.clip_len))
                target = torch.tensor([float(v.label)])
                loss = weights[v.label] * F.binary_cross_entropy_with_logits(logit.view(1), target)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            auc = float(roc_auc_score([v.label for v in val], video_scores(net, val, config.trunk_len)))
            history.append({"epoch": epoch, "auc": auc})
            config.progress(FitProgress(epoch, epochs, {"auc": auc}))
            if best is None or auc > best["auc"]:  # checkpoint selection on val; test is never seen here
                best = history[-1]
                torch.save(net.state_dict(), config.work_dir / "best.pt")
        return FitReport(best_checkpoint=config.work_dir / "best.pt", epochs=epochs, best_epoch=best["epoch"],
                         best_val_auc=best["auc"], history=history, parameters=sum(p.numel() for p in net.parameters()))

    def score(self, videos, config, fit: FitReport) -> list[float]:
        net = network()
        net.load_state_dict(torch.load(fit.best_checkpoint, weights_only=True))  # tensors only: no code runs
        return video_scores(net, videos, config.trunk_len)
