"""PyTorch CPU peer of `drmm train`: the same architectures (rfm, drmm5 = Conv-Small), the same
objective (cross-entropy, plus optionally the DRMM's image reconstruction through a tied
transposed-convolution decoder with the max-sum masks held constant), Adam, batch 100.

Two uses:
  throughput:   python drmm_training_torch.py --model drmm5 --steps 60 [--rc 0.5] --threads 2
  convergence:  python drmm_training_torch.py --model rfm --epochs 20 --threads 2
The convergence run prints the test error after every epoch and the first epoch at or below 1.5 %.
Its batches are those of `drmm train --seed S` in the same order (drmm_order.py); --order torch
shuffles with torch.randperm instead.
"""
import argparse, gzip, json, statistics, struct, time
import drmm_order
import numpy as np
from mnist_idx import idx
import torch, torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="rfm", choices=["rfm", "drmm5"])
ap.add_argument("--epochs", type=int, default=0)
ap.add_argument("--steps", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--lr-final", type=float, default=None)
ap.add_argument("--rc", type=float, default=0.0)
ap.add_argument("--batch-norm", action="store_true", help="batch normalisation after every convolution, scaled by a learned gamma (as drmm train --batch-norm)")
ap.add_argument("--batch", type=int, default=100)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--order", default="drmm", choices=["drmm", "torch"], help="batches of every epoch: drmm train's order for --seed (drmm_order.py) or torch.randperm's")
ap.add_argument("--data", default="Data/mnist")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


xtr = torch.tensor(idx(f"{a.data}/train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
ytr = torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
xte = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
yte = torch.tensor(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)

# (out channels, kernel, padding, pool) per level, as in Architecture.swift.
levels = {"rfm": [(32, 5, 4, 2)],
          "drmm5": [(32, 5, 4, 2), (64, 3, 0, 1), (64, 3, 2, 2), (128, 3, 0, 1), (10, 1, 0, 1)]}[a.model]
mean_pool_top = a.model == "drmm5"
params = []
cin = 1
for (o, k, p, pool) in levels:
    w = torch.empty(o, cin, k, k); torch.nn.init.xavier_uniform_(w)
    params += [w.requires_grad_(), torch.zeros(o, requires_grad=True)]
    cin = o
top_d = 10 if mean_pool_top else 32 * 16 * 16
wt = torch.empty(10, top_d); torch.nn.init.xavier_uniform_(wt)
params += [wt.requires_grad_(), torch.zeros(10, requires_grad=True)]
gammas = [torch.ones(o, requires_grad=True) for (o, k, p, pool) in levels] if a.batch_norm else []
opt = torch.optim.Adam(params + gammas, lr=a.lr)

def forward(x, record):
    routes = []
    h = x
    for i, (o, k, p, pool) in enumerate(levels):
        s = F.conv2d(h, params[2 * i], padding=p)
        if a.batch_norm:
            s = F.batch_norm(s, None, None, gammas[i], None, training=True, eps=1e-5)
        if pool > 1:
            m, ind = F.max_pool2d(s, pool, return_indices=True)
        else:
            m, ind = s, None
        v = m + params[2 * i + 1].view(1, -1, 1, 1)
        if record:
            routes.append(((v > 0).detach(), ind, s.shape[-2:]))
        h = F.relu(v)
    f = h.mean(dim=(2, 3)) if mean_pool_top else h.flatten(1)
    return f @ params[-2].t() + params[-1], routes, h.shape

def top_down(c, routes, top_shape):
    mu = params[-2][c]
    z = mu.view(-1, top_shape[1], 1, 1).expand(-1, -1, top_shape[2], top_shape[3]) if mean_pool_top else mu.view(top_shape)
    for i in reversed(range(len(levels))):
        o, k, p, pool = levels[i]
        on, ind, size = routes[i]
        zm = z * on
        if pool > 1:
            zm = F.max_unpool2d(zm, ind, pool, output_size=size)
        z = F.conv_transpose2d(zm, params[2 * i], padding=p)
    return z

def step(x, y):
    scores, routes, shape = forward(x, a.rc > 0)
    loss = F.cross_entropy(scores, y)
    if a.rc > 0:
        xhat = top_down(y, routes, shape)
        loss = loss + a.rc * F.mse_loss(xhat, x)
    opt.zero_grad(); loss.backward(); opt.step()
    return loss.item()

def test_error():
    wrong = 0
    with torch.no_grad():
        for s in range(0, len(xte), 1000):
            wrong += (forward(xte[s:s + 1000], False)[0].argmax(1) != yte[s:s + 1000]).sum().item()
    return wrong / len(xte)

info = {"torch": torch.__version__, "threads": a.threads, "model": a.model, "rc": a.rc, "batchNorm": a.batch_norm, "order": a.order}
if a.steps:
    for s in range(5):
        step(xtr[s * a.batch:(s + 1) * a.batch], ytr[s * a.batch:(s + 1) * a.batch])
    times = []
    for s in range(a.steps):
        lo = (s * a.batch) % (len(xtr) - a.batch)
        t0 = time.perf_counter(); step(xtr[lo:lo + a.batch], ytr[lo:lo + a.batch]); times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    info.update({"msPerStep": 1000 * t, "imagesPerSecond": a.batch / t})
    print(json.dumps(info))
if a.epochs:
    g = torch.Generator().manual_seed(a.seed)
    curve, start, first = [], time.perf_counter(), None
    for e in range(a.epochs):
        if a.lr_final is not None and a.epochs > 1:
            for group in opt.param_groups:
                group["lr"] = a.lr * (a.lr_final / a.lr) ** (e / (a.epochs - 1))
        perm = torch.tensor(drmm_order.permutation(len(xtr), a.seed, e)) if a.order == "drmm" else torch.randperm(len(xtr), generator=g)
        for s in range(0, len(xtr), a.batch):
            i = perm[s:s + a.batch]
            step(xtr[i], ytr[i])
        err = test_error()
        curve.append(err)
        if first is None and err <= 0.015:
            first = (e + 1, time.perf_counter() - start)
        print(json.dumps({"epoch": e + 1, "testError": err, "seconds": time.perf_counter() - start}), flush=True)
    info.update({"curve": curve, "epochsTo1_5Percent": first[0] if first else None, "secondsTo1_5Percent": first[1] if first else None})
    print(json.dumps(info))
