"""Training throughput of each stage and inference speed of the compound network.

Prints training samples per second of (1) the base network on 4x4 lattices,
(2) decimation initialization (RG network alone on 8x8), (3) RG Chern training
(compound network on 8x8, base frozen), at the given widths, and lattices per
second of the compound network (RG applied until 4x4, then base) at N = 8 ... 512.

Run: python benchmarks/bench_networks.py [--widths 32 256] [--threads 2]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from rgtopo import devices  # noqa: E402
from rgtopo import predict_chern  # noqa: E402
from rgtopo.nn import base_network, compound_network, rg_network  # noqa: E402
from rgtopo.training import compile_model  # noqa: E402


def train_rate(model, x, y, batch, min_seconds):
    model.fit(x[:batch], y[:batch], batch_size=batch, verbose=0)  # trace
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        model.fit(x, y, batch_size=batch, verbose=0)
        done += len(x)
    return done / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--widths", type=int, nargs="+", default=[32, 256])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=640)
    p.add_argument("--min-seconds", type=float, default=5.0)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32, 64, 128, 256, 512])
    a = p.parse_args()
    devices.configure(a.threads, 0)
    print(f"TensorFlow: {devices.device_summary()}, threads={a.threads}, batch={a.batch}")
    rng = np.random.default_rng(0)
    n = 4 * a.batch
    x4 = rng.uniform(-1, 1, (n, 4, 4, 3)).astype("float32")
    x8 = rng.uniform(-1, 1, (n, 8, 8, 3)).astype("float32")
    y1 = rng.integers(-1, 2, (n, 1)).astype("float32")
    y4 = x8.reshape(n, 4, 2, 4, 2, 3).mean(axis=(2, 4))
    print(f"{'width':>6} {'base 4x4/s':>12} {'decimation 8x8/s':>17} {'RG Chern 8x8/s':>15}")
    nets = {}
    for w in a.widths:
        base = compile_model(base_network(w), 0.01, 0.9, True, loss="abs_square")
        rg = compile_model(rg_network(w), 5e-4, 0.9, True, loss=None)
        r_base = train_rate(base, x4, y1, a.batch, a.min_seconds)
        r_dec = train_rate(rg, x8, y4, a.batch, a.min_seconds)
        comp = compile_model(compound_network(base, rg, 8), 5e-4, 0.9, True, loss="abs_square")
        r_rg = train_rate(comp, x8, y1, a.batch, a.min_seconds)
        print(f"{w:>6} {r_base:>12.0f} {r_dec:>17.0f} {r_rg:>15.0f}", flush=True)
        nets[w] = (base, rg)
    print("\ninference of the compound network (lattices per second)")
    print(f"{'N':>5} " + " ".join(f"{'W=' + str(w):>12}" for w in a.widths))
    for size in a.sizes:
        count = max(1, min(256, 256 * 64 // size**2))
        lat = rng.uniform(-1, 1, (count, size, size, 3))
        rates = []
        for w in a.widths:
            base, rg = nets[w]
            predict_chern(lat, base, rg, batch_size=count)
            done, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < a.min_seconds / 2 or done == 0:
                predict_chern(lat, base, rg, batch_size=count)
                done += count
            rates.append(done / (time.perf_counter() - t0))
        print(f"{size:>5} " + " ".join(f"{r:>12.1f}" for r in rates), flush=True)


if __name__ == "__main__":
    main()
