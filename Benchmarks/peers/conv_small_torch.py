"""PyTorch CPU on the identical Conv-Small architecture: forward of a batch of 100 28×28
images, Float32, no autograd. Prints the median over timed runs.

    python Benchmarks/peers/conv_small_torch.py [--threads 2] [--batch 100] [--repeats 30]
"""
import argparse, statistics, time
import torch, torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=100)
ap.add_argument("--repeats", type=int, default=30)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(1, 32, 5, padding=4), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(),
    nn.Conv2d(64, 64, 3, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(64, 128, 3), nn.ReLU(),
    nn.Conv2d(128, 10, 1), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 10)).eval()
x = torch.rand(a.batch, 1, 28, 28)
with torch.no_grad():
    for _ in range(3):
        net(x)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); net(x); times.append(time.perf_counter() - t0)
t = statistics.median(times)
print(f"PyTorch {torch.__version__} CPU, {a.threads} threads, batch {a.batch}: {t * 1000:.2f} ms per batch, {a.batch / t:.0f} images/s")
