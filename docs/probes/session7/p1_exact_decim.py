# Upper bound: exact decimation then exact 4x4 Bott (no networks). Also Pfaffian-parity check.
from common import *
from rgtopo.lattice import decimate
for size, count in [(8, 4000), (16, 1000)]:
    x, y, g = fresh(size, count)
    steps = {8: 1, 16: 2}[size]
    for f in [0.0, 0.25, 0.5, 0.75, 1.0]:
        z = x.astype(np.float64)
        for _ in range(steps):
            z = decimate(z, f)
        pred = np.asarray(rgtopo.chern_numbers(z, threads=2).chern)
        report(f"N={size} exact-decimation f={f} + exact 4x4 Bott", pred, y, x)
