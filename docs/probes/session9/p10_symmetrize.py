"""Test-time symmetrization of the whole chain: average the predicted Chern number over exact
symmetries of the input lattice (class-probability average, since the prediction is the
expected Chern number). Translations by offsets below 2^k give different coarse lattices after
k decimations, so the chain is not invariant under them; transpose and mu -> -mu act on every
level. Scored on session 7's seed-11 probe sets (never used by the workflow).

Run: python docs/probes/session9/p10_symmetrize.py BUNDLE_DIR
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import fresh, report  # noqa: E402

import rgtopo  # noqa: E402
from rgtopo.symmetries import negate_mu, translate, transpose  # noqa: E402


def symmetrized(bundle, x, offsets, group):
    total, count = 0.0, 0
    for dx in range(offsets):
        for dy in range(offsets):
            xt = translate(x, dx, dy)
            for swap in (False, True) if group else (False,):
                xs = transpose(xt) if swap else xt
                for flip in (False, True) if group else (False,):
                    xf = negate_mu(xs) if flip else xs
                    value = rgtopo.predict_chern(xf, bundle, batch_size=1024)
                    total = total + (-value if flip else value)
                    count += 1
    return total / count


bundle = rgtopo.load_bundle(sys.argv[1])
for size, count in ((4, 20000), (8, 4000), (16, 1000)):
    x, y, _ = fresh(size, count)
    steps = int(np.log2(size // 4))
    for name, offsets, group in (("plain", 1, False), ("transpose x mu", 1, True),
                                 (f"offsets {2**steps}^2", 2**steps, False),
                                 (f"offsets {2**steps}^2 x transpose x mu", 2**steps, True)):
        if steps == 0 and offsets > 1:
            continue
        t = time.perf_counter()
        pred = np.rint(symmetrized(bundle, x, offsets, group)).astype(int)
        report(f"{size}x{size} {name} ({time.perf_counter() - t:.0f} s)", pred, y, x)
