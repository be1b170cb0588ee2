# Do the 4x4 labels that change under tiny noise cost the network its fit of the others?
# session 10's canon64 recipe (the package's canonical spectral base network, level 0, width 256,
# 4 blocks, 4 shifts, Adam 0.006 per-step cosine, batch 1024, 3 epochs of 10^6 draws) on session 7's
# 10^6 boundary-biased 4x4 lattices, each relabeled on COPIES copies with noise of EPS times the
# disorder widths (benchmarks/label_stability.perturbed_labels; cached). Variants:
#   base  - the exact labels (as shipped)
#   drop  - lattices whose label changes on any copy left out of training
#   soft  - target: the label distribution over the lattice and its copies (soft cross-entropy)
#   major - target: the majority label over the lattice and its copies
# Scored on session 7's fresh seed-11 set (20,000), split by the same test (4 copies at EPS).
# argv: variant [epochs] [eps] [copies]
import os
import sys
from pathlib import Path
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "session7"))
sys.path.insert(0, str(HERE.parents[2] / "benchmarks"))
from common import *  # noqa: E402,F401,F403
import keras  # noqa: E402
from label_stability import perturbed_labels  # noqa: E402
from canon import BATCH, canon_network, predicted  # noqa: E402
from rgtopo.models import CHERN_CLASSES, compile_model  # noqa: E402
from rgtopo.params import DatasetSpec  # noqa: E402
from rgtopo.sampling import disorder_widths  # noqa: E402

variant = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
eps = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
copies = int(sys.argv[4]) if len(sys.argv) > 4 else 2
SEED = int(os.environ.get("PROBE_SEED", 5))
keras.utils.set_random_seed(SEED)
widths = disorder_widths(DatasetSpec.from_config(CONFIG, distribution="uniform", size=4, stream="widths"), 4)


def noisy(x, name, n):
    path = CACHE / f"perturbed_{name}_eps{eps}_c{n}.npy"
    if not path.is_file():
        t = time.perf_counter()
        np.save(path, perturbed_labels(x, widths, eps, n, np.random.default_rng(3), 2))
        print(f"relabeled {name} x{n} in {time.perf_counter() - t:.0f}s", flush=True)
    return np.load(path)


x4, y4, _ = fresh(4, 1000000, distribution="boundary_biased", stream="probe_train", disorder_scale=(0.0, 2.0))
xe, ye, _ = fresh(4, 20000)
train_copies = noisy(x4, "train", copies)
unstable_e = (noisy(xe, "fresh", 4) != ye[:, None]).any(axis=1)
unstable_t = (train_copies != y4[:, None]).any(axis=1)
print(f"unstable: training {100 * unstable_t.mean():.2f} %, fresh {100 * unstable_e.mean():.2f} %", flush=True)
classes = np.array(CHERN_CLASSES)
all_labels = np.concatenate([y4[:, None], train_copies], axis=1)
onehot = (all_labels[..., None] == classes).mean(axis=1).astype(np.float32)  # (n, classes)
x_train, target = x4, y4
if variant == "drop":
    x_train, target = x4[~unstable_t], y4[~unstable_t]
elif variant == "major":
    target = classes[np.argmax(onehot + 1e-3 * (y4[:, None] == classes), axis=1)]  # ties: the exact label
model, schedule = canon_network(x4, 256, 0.006, epochs)
if variant != "soft":
    compile_model(model, schedule, 0.9, True, chern=True, optimizer="adam", loss="cross_entropy")
else:
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True), jit_compile=False)
    target = onehot
rng = np.random.default_rng(SEED - 5)
t0 = time.perf_counter()
for e in range(epochs):
    idx = rng.choice(len(x_train), size=1000000, replace=len(x_train) < 1000000)
    model.fit(x_train[idx], target[idx], batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
    pred = predicted(model, xe)
    report(f"{variant} epoch {e + 1}/{epochs} ({time.perf_counter() - t0:.0f}s) fresh", pred, ye, xe)
    for name, s in (("stable", ~unstable_e), ("unstable", unstable_e)):
        report(f"    {name} ({s.sum()})", pred[s], ye[s], xe[s])
