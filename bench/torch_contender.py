"""The benchmark's PyTorch contenders: a torch.nn model trained by plain SGD on one thread, batch
by batch in a seeded random order, like webnet's."""
from __future__ import annotations

import numpy as np


class TorchContender:
    """Subclasses set ``name``, ``batch``, ``lr`` and ``build(nn)`` -> the model (logits out)."""

    name, batch, lr = "PyTorch", 64, 0.05

    def __init__(self, X, y, seed):
        import torch

        torch.manual_seed(seed)
        torch.set_num_threads(1)
        self.torch = torch
        self.X, self.y = torch.from_numpy(X.astype(np.float32, copy=False)), torch.from_numpy(y.astype(np.int64))
        self.model = self.build(torch.nn)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr)
        self.loss = torch.nn.CrossEntropyLoss()
        self.gen = torch.Generator().manual_seed(seed + 1)

    def build(self, nn):
        raise NotImplementedError

    def epoch(self):
        perm = self.torch.randperm(len(self.X), generator=self.gen)
        for i in range(0, len(self.X), self.batch):
            idx = perm[i:i + self.batch]
            self.opt.zero_grad()
            self.loss(self.model(self.X[idx]), self.y[idx]).backward()
            self.opt.step()

    def accuracy(self, X, y):
        with self.torch.no_grad():
            logits = self.model(self.torch.from_numpy(X.astype(np.float32, copy=False)))
            return float((logits.argmax(1).numpy() == y).mean())
