"""PyTorch round trip, both ways, on the MNIST test set (every image):

1. train Conv-Small (Examples/Architectures/drmm5.json, with batch normalisation) in PyTorch for
   one epoch, save its state dict as safetensors, `drmm import` it, `drmm evaluate --logits`, and
   compare predictions and logits with PyTorch's;
2. train the same architecture here (`drmm train`, one epoch), `drmm export` it, load it into the
   PyTorch module with load_state_dict(strict=True), and compare the same way.

    python Benchmarks/peers/pytorch_roundtrip.py --drmm .build/release/drmm --out /tmp/roundtrip
Prints one JSON line per direction and exits non-zero if a prediction differs or a logit differs
by more than 1e-4.
"""
import argparse, gzip, json, os, struct, subprocess, sys, time
import numpy as np
from mnist_idx import idx
import torch, torch.nn.functional as F
import safetensors.torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "Examples", "PyTorch"))
import drmm_torch

ap = argparse.ArgumentParser()
ap.add_argument("--drmm", default=os.path.join(ROOT, ".build", "release", "drmm"))
ap.add_argument("--data", default=os.path.join(ROOT, "Data", "mnist"))
ap.add_argument("--out", default="/tmp/drmm-roundtrip")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True)




xtr = torch.tensor(idx(f"{a.data}/train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
ytr = torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
xte = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
architecture = json.load(open(os.path.join(ROOT, "Examples", "Architectures", "drmm5.json")))
architecture["normalization"] = "batch"
architecture["name"] = "drmm5-bn"
arch_path = os.path.join(a.out, "drmm5-bn.json")
json.dump(architecture, open(arch_path, "w"))


def torch_logits(model):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(xte[s:s + 1000]) for s in range(0, len(xte), 1000)]).numpy()


def compare(direction, ours_path, theirs, seconds):
    ours = np.load(ours_path)
    agree = int((ours.argmax(1) == theirs.argmax(1)).sum())
    diff = float(np.abs(ours - theirs).max())
    report = {"direction": direction, "images": len(theirs), "predictionsAgreeing": agree,
              "largestLogitDifference": diff, "seconds": round(seconds, 1), "torch": torch.__version__}
    print(json.dumps(report), flush=True)
    return agree == len(theirs) and diff <= 1e-4


def drmm(*args):
    subprocess.run([a.drmm, *args], check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})


# 1. PyTorch → here.
start = time.time()
model = drmm_torch.sequential(architecture)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
model.train()
perm = torch.randperm(len(xtr))
for s in range(0, len(xtr), 100):
    i = perm[s:s + 100]
    loss = F.cross_entropy(model(xtr[i]), ytr[i])
    opt.zero_grad(); loss.backward(); opt.step()
theirs = torch_logits(model)
st = os.path.join(a.out, "pytorch.safetensors")
safetensors.torch.save_file({k: v.contiguous() for k, v in model.state_dict().items()}, st,
                            metadata=drmm_torch.metadata(architecture))
drmm("import", st, "--out", os.path.join(a.out, "imported.json"))
drmm("evaluate", "--checkpoint", os.path.join(a.out, "imported.json"), "--data", a.data,
     "--logits", os.path.join(a.out, "imported-logits.npy"))
ok1 = compare("pytorch-to-drmm", os.path.join(a.out, "imported-logits.npy"), theirs, time.time() - start)

# 2. Here → PyTorch.
start = time.time()
run = os.path.join(a.out, "trained-here")
drmm("train", "--architecture", arch_path, "--data", a.data, "--epochs", "1", "--lr", "3e-3", "--out", run, "--quiet")
drmm("export", "--checkpoint", os.path.join(run, "checkpoint.json"), "--out", os.path.join(a.out, "drmm.safetensors"))
drmm("evaluate", "--checkpoint", os.path.join(run, "checkpoint.json"), "--data", a.data,
     "--logits", os.path.join(a.out, "drmm-logits.npy"))
model = drmm_torch.sequential(architecture)
model.load_state_dict(safetensors.torch.load_file(os.path.join(a.out, "drmm.safetensors")), strict=True)
ok2 = compare("drmm-to-pytorch", os.path.join(a.out, "drmm-logits.npy"), torch_logits(model), time.time() - start)
sys.exit(0 if ok1 and ok2 else 1)
