import sys, time
from pathlib import Path
import numpy as np
import rgtopo
from rgtopo.config import load_config
from rgtopo.params import DatasetSpec
from rgtopo.sampling import sample_lattices
from rgtopo.metrics import clean_formula
REPO = Path(__file__).resolve().parents[3]
CONFIG = load_config(str(REPO / "config" / "config.yaml"), REPO)
CACHE = REPO / "benchmarks" / "results" / "probe_cache"; CACHE.mkdir(parents=True, exist_ok=True)

def fresh(size, count, seed=11, distribution="uniform", stream=None, **over):
    stream = stream or f"fresh_{size}"
    tag = "_".join(f"{k}{v}" for k, v in sorted(over.items())).replace(" ", "")
    path = CACHE / f"{distribution}_{stream}_s{seed}_{size}_{count}{tag}.npz"
    if path.is_file():
        d = np.load(path); return d["lattices"], d["chern"], d["gap"]
    spec = DatasetSpec.from_config(CONFIG, distribution=distribution, size=size, stream=stream, seed=seed, **over)
    t = time.perf_counter()
    x = sample_lattices(spec, 0, count)
    r = rgtopo.chern_numbers(x, threads=2)
    print(f"labeled {count} {size}x{size} in {time.perf_counter()-t:.0f}s", file=sys.stderr)
    np.savez(path, lattices=x.astype(np.float32), chern=np.asarray(r.chern), gap=np.asarray(r.gap))
    return x.astype(np.float32), np.asarray(r.chern), np.asarray(r.gap)

def report(name, pred, y, x):
    cf = clean_formula(x); dd = y != cf
    print(f"{name}: acc {100*np.mean(pred==y):.2f}  clean {100*np.mean(cf==y):.2f}  DD n={dd.sum()} {100*np.mean(pred[dd]==y[dd]):.1f}", flush=True)
