# The tied 16x16 phase (rg_training.tied_epochs) from the shipped bundle: the RG network applied twice
# with one set of weights, through the frozen level-conditioned base network, on COUNT boundary-biased
# 16x16 labels; scored after every epoch on session 7's fresh seed-11 uniform sets (8x8: 4,000,
# clean formula 94.80 %; 16x16: 1,000, clean 95.80 %).
# argv: count epochs rate batch
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403
import keras  # noqa: E402
import rgtopo  # noqa: E402
from rgtopo.models import compile_model, compound_network  # noqa: E402
from rgtopo.symmetries import augment  # noqa: E402

count, epochs, rate, batch = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
keras.utils.set_random_seed(5)
x16, y16, _ = fresh(16, count, distribution="boundary_biased", stream="probe_train16")
sets = {8: fresh(8, 4000)[:2], 16: fresh(16, 1000)[:2]}
bundle = rgtopo.load_bundle()
base, rg = bundle.base, bundle.rg
model = compile_model(compound_network(base, rg, 16), rate, 0.9, True, chern=True,
                      optimizer="adam", loss="expected_error")


def score(tag):
    for size, (x, y) in sets.items():
        pred = np.rint(rgtopo.predict_chern(x, base, rg, batch_size=256)).astype(int)
        report(f"tied {count} lr {rate} batch {batch} {tag} {size}x{size}", pred, y, x)


score("epoch 0")
rng = np.random.default_rng(0)
t0 = time.perf_counter()
for e in range(epochs):
    xa, ya = augment(x16, y16.astype(np.float32)[:, None], rng)
    model.fit(xa, ya, batch_size=batch, epochs=1, verbose=0, shuffle=True)
    score(f"epoch {e + 1} ({time.perf_counter() - t0:.0f}s)")
