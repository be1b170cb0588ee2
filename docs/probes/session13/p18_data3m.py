# Does a larger 4x4 network generalize further when it has more distinct lattices?
# The package's canonical spectral base network (level 0; as session 12's p13 canon64), width W,
# 4 blocks, 4 shifts, Adam RATE with per-step cosine decay, batch 1024, EPOCHS epochs of 10^6 draws
# from the first M x 10^6 of session 7's three cached sets of 10^6 boundary-biased 4x4 lattices
# (disorder x U[0, 2]: probe_train, probe_train_e1, probe_train_e2). Scored on session 7's fresh
# seed-11 set (20,000) and on 50,000 training lattices.
# argv: millions(1-3) epochs rate width
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403
import keras  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from canon import BATCH, canon_network, predicted  # noqa: E402
from rgtopo.models import compile_model  # noqa: E402

millions, epochs, rate, width = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
keras.utils.set_random_seed(5)
parts = [fresh(4, 1000000, distribution="boundary_biased", stream=s, disorder_scale=(0.0, 2.0))
         for s in ("probe_train", "probe_train_e1", "probe_train_e2")[:millions]]
x4 = np.concatenate([p[0] for p in parts])
y4 = np.concatenate([p[1] for p in parts])
xe, ye, _ = fresh(4, 20000)
model, schedule = canon_network(x4, width, rate, epochs)
compile_model(model, schedule, 0.9, True, chern=True, optimizer="adam", loss="cross_entropy")
print(f"{len(x4)} lattices, width {width}, rate {rate}: {model.count_params()} parameters", flush=True)
rng = np.random.default_rng(0)
t0 = time.perf_counter()
for e in range(epochs):
    idx = rng.choice(len(x4), size=1000000, replace=False)
    model.fit(x4[idx], y4[idx], batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
    for name, (x, y) in {"fresh": (xe, ye), "train50k": (x4[:50000], y4[:50000])}.items():
        pred = predicted(model, x)
        report(f"{millions}M epoch {e + 1}/{epochs} ({time.perf_counter() - t0:.0f}s) {name}", pred, y, x)
