# Average the class probabilities of the seeds saved by `p13_boundary.py canon64+save` (an ensemble).
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session7"))
from common import *  # noqa: E402,F401,F403
from rgtopo.models import CHERN_CLASSES  # noqa: E402
xe, ye, _ = fresh(4, 20000)
probs = [np.load(f"prob_{sys.argv[1]}_seed{s}.npy") for s in sys.argv[2:]]
for k in range(1, len(probs) + 1):
    pred = np.argmax(np.mean(probs[:k], axis=0), 1) + min(CHERN_CLASSES)
    report(f"ensemble of {k}", pred, ye, xe)
