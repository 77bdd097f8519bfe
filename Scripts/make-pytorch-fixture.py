#!/usr/bin/env python3
"""Writes Tests/DRMMLearningTests/Fixtures/pytorch-tiny.safetensors and pytorch-tiny.json: a small
network built and randomly set in PyTorch (two levels with batch normalisation, conv biases that
`drmm import` folds into the running means, non-trivial running statistics), and its logits in
eval mode on ten images. The import test reproduces those logits without PyTorch.

    /path/to/venv/bin/python Scripts/make-pytorch-fixture.py      # a venv with torch, safetensors
"""
import json, os, sys
import torch, torch.nn as nn
import safetensors.torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Examples", "PyTorch"))
import drmm_torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DRMMLearningTests", "Fixtures")
torch.manual_seed(11)
architecture = {"name": "tiny", "inputShape": [2, 8, 8], "classes": 4, "top": "meanPool", "normalization": "batch",
                "layers": [{"channels": 3, "kernel": 3, "padding": "same", "pool": 2},
                           {"channels": 5, "kernel": 3, "padding": "full", "pool": 1}]}
model = drmm_torch.sequential(architecture)
# Conv biases before the normalisation (PyTorch's default conv has one): drmm import folds them.
model[0] = nn.Conv2d(2, 3, 3, padding=1, bias=True)
with torch.no_grad():
    for m in model:
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5); m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.3, 0.3)
model.eval()
images = torch.rand(10, 2, 8, 8)
with torch.no_grad():
    logits = model(images)
os.makedirs(OUT, exist_ok=True)
state = {k: v.contiguous() for k, v in model.state_dict().items()}
safetensors.torch.save_file(state, f"{OUT}/pytorch-tiny.safetensors", metadata=drmm_torch.metadata(architecture))
with open(f"{OUT}/pytorch-tiny.json", "w") as f:
    json.dump({"torch": torch.__version__, "images": images.reshape(-1).tolist(), "logits": logits.reshape(-1).tolist()}, f)
