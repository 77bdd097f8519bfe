"""The PyTorch nn.Sequential of a DRMM architecture file, whose state dict is the one
`drmm export` writes and `drmm import` reads.

    import json, safetensors.torch, drmm_torch
    model = drmm_torch.sequential(json.load(open("Examples/Architectures/drmm5.json")))
    model.load_state_dict(safetensors.torch.load_file("model.safetensors"))
    model.eval(); logits = model(images)          # images: float32 [N, C, H, W] in [0, 1]

    safetensors.torch.save_file(model.state_dict(), "model.safetensors",
                                metadata=drmm_torch.metadata(architecture))   # then: drmm import

Per level: Conv2d (without bias when normalised), BatchNorm2d(eps=1e-5) when the architecture's
normalization is batch or batchFolded, ReLU, MaxPool2d(pool) when pool > 1. The top:
AdaptiveAvgPool2d(1), Flatten, Linear for a meanPool top; Flatten, Linear for a dense one.
"""
import json
import torch.nn as nn

PADDING = {"valid": lambda k: 0, "same": lambda k: (k - 1) // 2, "full": lambda k: k - 1}


def sequential(architecture):
    """The module of an architecture (a dict as in Examples/Architectures/*.json)."""
    c, h, w = architecture["inputShape"]
    normalised = architecture.get("normalization", "none") != "none"
    modules = []
    for level in architecture["layers"]:
        k, pool = level["kernel"], level.get("pool", 1)
        pad = PADDING[level.get("padding", "valid")](k)
        modules.append(nn.Conv2d(c, level["channels"], k, padding=pad, bias=not normalised))
        if normalised:
            modules.append(nn.BatchNorm2d(level["channels"], eps=1e-5))
        modules.append(nn.ReLU())
        c, h, w = level["channels"], h + 2 * pad - k + 1, w + 2 * pad - k + 1
        if pool > 1:
            modules.append(nn.MaxPool2d(pool))
            h, w = h // pool, w // pool
    if architecture.get("top", "dense") == "meanPool":
        modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, architecture["classes"])]
    else:
        modules += [nn.Flatten(), nn.Linear(c * h * w, architecture["classes"])]
    return nn.Sequential(*modules)


def metadata(architecture):
    """The safetensors metadata that lets `drmm import` read the file without --architecture."""
    return {"format": "pt", "drmm_architecture": json.dumps(architecture)}
