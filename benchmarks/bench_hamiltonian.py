"""Any Hamiltonian: agreement with pybott, and time and memory against size.

--agreement: QWZ, Haldane and the p+ip BdG model (Nambu basis), clean and disordered, on
N x N tori (Haldane: N/2 x N/2 four-site cells, N^2 sites); labels of rgtopo's dense Bott
index and localizer against pybott 2024.11.19's ``bott`` (its public call, its sign flipped:
it traces U V U^-1 V^-1) and against pybott's own routines with the torus period and
daggers (``compute_uv(..., lx, ly)``, ``bott_matrix(dagger=True)``); agreement is counted
where the spectral gap is at least 0.05.

--speed: one disordered QWZ torus per size (W = 1, mass 1), each label in a child process
of its own on one thread (peak memory: ru_maxrss): rgtopo's localizer at every size, its
dense Bott index and pybott up to --dense-max; sizes whose factor is estimated above
--max-memory-gb are reported as the estimate, not run. --threads gives each label more
threads (PARDISO's, BLAS's).

--class-d: the p+ip BdG matrix in the Nambu basis labeled in its Majorana form (the default
for class D) and in the general real form of class A, each in a child process on one thread.

Run: python benchmarks/bench_hamiltonian.py --agreement [--sizes 10 20 30]
     python benchmarks/bench_hamiltonian.py --class-d [--sizes 64 128 256]
     python benchmarks/bench_hamiltonian.py --speed [--sizes 64 256 512] [--dense-max 64]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

CHILD = r"""
import json, resource, sys, time
import numpy as np
import dataclasses
import rgtopo
from rgtopo.models import qwz
from rgtopo.params import LabelingParams
n, method, max_gb, family, threads = {n}, {method!r}, {max_gb}, {family!r}, {threads}
warm = qwz(16, 1.0, disorder=1.0, rng=np.random.default_rng(0))
model = qwz(n, 1.0, disorder=1.0, rng=np.random.default_rng(n))
params = LabelingParams()
params = dataclasses.replace(params, localizer=dataclasses.replace(params.localizer,
                                                                   max_memory_gb=max_gb))
if method == "class_a":  # the same BdG matrix, its class-D form ignored: [[Re L, -Im L], ...]
    rgtopo.physics.system.majorana_form = lambda system: None
if family == "pip":
    from rgtopo.models import pip_bdg
    def lattice(size, seed):
        r = np.random.default_rng(seed)
        return np.stack([1.0 + 0.3 * r.uniform(-0.5, 0.5, (size, size)),
                         0.2 * r.uniform(-0.5, 0.5, (size, size)),
                         0.15 + 0.05 * r.uniform(-0.5, 0.5, (size, size))], axis=-1)
    warm, model = pip_bdg(lattice(16, 0)), pip_bdg(lattice(n, n))
if method == "pybott":
    from pybott import bott
    label = lambda m: -round(bott(m.positions, m.hamiltonian.toarray(), fermi_energy=0.0))
else:
    label = lambda m: int(rgtopo.hamiltonian_chern(m, method="localizer" if method == "class_a"
                                                   else method, threads=threads,
                                                   params=params).chern[0])
label(warm)
t0 = time.perf_counter()
chern = label(model)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(seconds=seconds, peak_gb=peak / 1e6, chern=chern)))
"""


def measure(n: int, method: str, max_gb: float, family: str = "qwz", threads: int = 1) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads)}
    code = CHILD.format(n=n, method=method, max_gb=max_gb, family=family, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed(sizes, dense_max: int, max_gb: float, threads: int) -> None:
    from rgtopo.physics.spectral_localizer import localizer_memory_gb
    from rgtopo.physics.system import as_system
    from rgtopo.models import qwz
    from rgtopo.params import LocalizerParams

    print(f"# {time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.2f} at start; "
          f"disordered QWZ (mass 1, W = 1), {threads} thread(s)")
    print("| N | states | localizer s | peak GB | estimated factor GB | dense Bott s | "
          "pybott s | pybott / localizer | labels |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in sizes:
        model = qwz(n, 1.0)
        estimate = localizer_memory_gb(as_system(*model[:2], period=model.period),
                                       LocalizerParams())
        rows = {"localizer": (measure(n, "localizer", max_gb, threads=threads)
                              if estimate <= max_gb else {})}
        for name in ("bott", "pybott"):
            rows[name] = measure(n, name, max_gb, threads=threads) if n <= dense_max else {}
        cell = lambda r: f"{r['seconds']:.3g}" if "seconds" in r else r.get("error", "")[:40]  # noqa: E731
        loc = rows["localizer"]
        ratio = (f"{rows['pybott']['seconds'] / loc['seconds']:.0f}"
                 if "seconds" in rows["pybott"] and "seconds" in loc else "")
        labels = sorted({r["chern"] for r in rows.values() if "chern" in r})
        print(f"| {n} | {2 * n * n} | {cell(loc) or 'not run'} | "
              f"{loc.get('peak_gb', float('nan')):.2f} | {estimate:.2f} | {cell(rows['bott'])} | "
              f"{cell(rows['pybott'])} | {ratio} | {labels} |", flush=True)


def class_d(sizes, max_gb: float) -> None:
    """The p+ip BdG matrix in the Nambu basis: its Majorana form against the general real form."""
    print(f"# {time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.2f} at start; "
          "p+ip lattice at the 4x4 widths (mean mu 1), Nambu BdG matrix, one thread")
    print("| N | states | Majorana form s | peak GB | class-A real form s | peak GB | ratio | "
          "labels |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in sizes:
        d, a = measure(n, "localizer", max_gb, "pip"), measure(n, "class_a", max_gb, "pip")
        if "seconds" not in d or "seconds" not in a:
            print(f"| {n} | {2 * n * n} | {d.get('error', '')} | | {a.get('error', '')} | | | |")
            continue
        print(f"| {n} | {2 * n * n} | {d['seconds']:.3g} | {d['peak_gb']:.2f} | "
              f"{a['seconds']:.3g} | {a['peak_gb']:.2f} | {a['seconds'] / d['seconds']:.2f} | "
              f"{sorted({d['chern'], a['chern']})} |", flush=True)


def agreement_models(n: int, disordered: bool, rng):
    from rgtopo.models import haldane, pip_bdg, qwz

    w = 1.0 if disordered else 0.0
    masses = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)
    out = [(f"QWZ mass {m}", qwz(n, m, disorder=2 * w, rng=rng)) for m in masses]
    out += [(f"Haldane M {m}", haldane(n // 2, n // 2, mass=m, disorder=w, rng=rng))
            for m in (0.0, 0.6, 1.5)]
    for mu in (-3.0, -1.0, 1.0, 3.0):
        lat = np.empty((n, n, 3))
        lat[..., 0] = mu + (rng.uniform(-1.0, 1.0, (n, n)) if disordered else 0.0)
        lat[..., 1] = rng.uniform(-0.1, 0.1, (n, n)) if disordered else 0.0
        lat[..., 2] = 0.5
        out.append((f"p+ip BdG mu {mu}", pip_bdg(lat)))
    return out


def agreement(sizes, samples: int, seed: int) -> None:
    from pybott import bott
    from pybott.bott import bott_matrix, compute_uv

    import rgtopo

    def pybott_torus(model):
        energies, states = np.linalg.eigh(model.hamiltonian.toarray())
        u, v = compute_uv(model.positions, states, int(np.searchsorted(energies, 0.0)), 1,
                          lx=model.period[0], ly=model.period[1])
        return -bott_matrix(u, v, dagger=True)

    print(f"# {time.strftime('%Y-%m-%d')}; pybott's sign flipped; agreement where gap >= 0.05")
    print("| family | N | disorder | systems | gap >= 0.05 | Bott = pybott (public call) | "
          "Bott = pybott (torus period) | Bott = localizer | localizer certified | "
          "labels seen |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    rng = np.random.default_rng(seed)
    for n in sizes:
        for disordered in (False, True):
            rows = {}
            for _ in range(samples if disordered else 1):
                for name, model in agreement_models(n, disordered, rng):
                    rows.setdefault(name.split(" ")[0], []).append(model)
            for family, models in rows.items():
                ours = rgtopo.hamiltonian_chern(models, method="bott", threads=2)
                loc = rgtopo.hamiltonian_chern(models, method="localizer", threads=2)
                public = np.array([-round(bott(m.positions, m.hamiltonian.toarray()))
                                   for m in models])
                torus = np.array([round(pybott_torus(m)) for m in models])
                g = ours.gap >= 0.05
                print(f"| {family} | {n} | {'yes' if disordered else 'no'} | {len(models)} | "
                      f"{g.sum()} | {(public == ours.chern)[g].sum()} of {g.sum()} | "
                      f"{(torus == ours.chern)[g].sum()} of {g.sum()} | "
                      f"{(loc.chern == ours.chern)[g].sum()} of {g.sum()} | "
                      f"{(loc.certified & g).sum()} of {g.sum()} | "
                      f"{sorted(set(ours.chern[g].tolist()))} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--agreement", action="store_true")
    mode.add_argument("--speed", action="store_true")
    mode.add_argument("--class-d", action="store_true",
                      help="the Majorana form of a BdG matrix against the general real form")
    p.add_argument("--sizes", nargs="+", type=int, default=None)
    p.add_argument("--samples", type=int, default=3, help="disordered systems per model point")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--dense-max", type=int, default=64)
    p.add_argument("--max-memory-gb", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=1, help="threads of each --speed label")
    a = p.parse_args(argv)
    if a.agreement:
        agreement(a.sizes or [10, 20, 30], a.samples, a.seed)
    elif a.class_d:
        class_d(a.sizes or [64, 128, 256], a.max_memory_gb)
    else:
        speed(a.sizes or [64, 256, 512], a.dense_max, a.max_memory_gb, a.threads)


if __name__ == "__main__":
    sys.exit(main() or 0)
