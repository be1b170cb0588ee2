# Session 10's canon64 4x4 base network and its per-step cosine rate, shared by p17 and p18.
import keras
import numpy as np
from rgtopo.models import CHERN_CLASSES, base_network, feature_scales

BATCH = 1024


def canon_network(x4, width, rate, epochs, draws=1000000):
    """(model, schedule): the canonical spectral base network (level 0, 4 blocks, 4 shifts, class
    head), feature scales from the first 4,096 training lattices, Adam's cosine rate over all steps."""
    model = base_network(width, architecture="spectral", blocks=4, shifts=4, loss="cross_entropy",
                         scales=feature_scales(x4[:4096]), canonical=True)
    schedule = keras.optimizers.schedules.CosineDecay(rate, epochs * (draws // BATCH), alpha=1e-5 / rate)
    return model, schedule


def predicted(model, x):
    """Predicted Chern numbers of a class-head network."""
    return np.argmax(model.predict(x, batch_size=4096, verbose=0), 1) + min(CHERN_CLASSES)
