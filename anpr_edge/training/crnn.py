"""A small CRNN for single-row plates: conv feature extractor, 1-D context convs, CTC classes.

Conv-only (no LSTM) so it compiles to a cheap OpenVINO graph: about 2 ms per 32 x 128 crop on one
CPU core. The exported graph ends in a softmax, so the runtime receives probabilities ``(N, T, C)``
with class 0 the CTC blank.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(cin: int, cout: int, k: int | tuple[int, int] = 3, p: int | tuple[int, int] = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CRNN(nn.Module):
    """Input ``(N, 1, 32, W)`` normalised grey; output ``(N, W/4, n_classes)``."""

    def __init__(self, n_classes: int, width: int = 1) -> None:
        super().__init__()
        c = [16 * width, 32 * width, 64 * width, 96 * width, 128 * width]
        self.features = nn.Sequential(
            _conv(1, c[0]),
            nn.MaxPool2d(2, 2),  # 16 x W/2
            _conv(c[0], c[1]),
            nn.MaxPool2d(2, 2),  # 8 x W/4
            _conv(c[1], c[2]),
            _conv(c[2], c[2]),
            nn.MaxPool2d((2, 1), (2, 1)),  # 4 x W/4
            _conv(c[2], c[3]),
            _conv(c[3], c[3]),
            nn.MaxPool2d((2, 1), (2, 1)),  # 2 x W/4
            _conv(c[3], c[4], k=(2, 1), p=0),  # 1 x W/4
        )
        self.context = nn.Sequential(
            nn.Conv1d(c[4], c[4], 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Conv1d(c[4], c[4], 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Conv1d(c[4], n_classes, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, T, C)`` unnormalised scores."""
        f = self.features(x).squeeze(2)  # N, C, T
        f = f + self.context(f)
        return self.head(f).permute(0, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)


class CRNNWithSoftmax(nn.Module):
    """The export wrapper: probabilities instead of logits."""

    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model.logits(x), dim=-1)
