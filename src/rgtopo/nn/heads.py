"""Losses and Chern heads: what a base network answers and what it is trained on.

A head is one scalar (the paper's Eq. A2 loss) or logits over CHERN_CLASSES (the
classification losses); ``chern_value`` reads a real-valued Chern number off either.
The losses and the accuracy metric are registered with Keras, so a checkpoint saved
with its compiled loss loads without custom_objects.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ..errors import ModelError, SpecError
from ..params import LOSS_HEADS
from ..physics.lattice import BASE_SIZE
from .layers import PACKAGE, CanonicalLattice, SignedChern


@keras.saving.register_keras_serializable(package=PACKAGE)
def abs_square_loss(y_true, y_pred):
    """Eq. (A2): |e| + e^2, summed over sites and channels, averaged over the batch."""
    e = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
    per = ops.abs(e) + ops.square(e)
    if len(per.shape) > 1:
        per = ops.sum(ops.reshape(per, (ops.shape(per)[0], -1)), axis=-1)
    return per


CHERN_CLASSES = (-2, -1, 0, 1, 2)


def chern_value(output):
    """Real-valued Chern number from a network output.

    A scalar head (the paper's) is the value itself; a class head holds logits
    over CHERN_CLASSES and its value is the expected Chern number.
    """
    if output.shape[-1] == 1:
        return ops.reshape(output, (-1,))
    probs = ops.softmax(ops.cast(output, "float32"), axis=-1)
    return ops.sum(probs * ops.convert_to_tensor(CHERN_CLASSES, "float32"), axis=-1)


def _class_index(y_true):
    """Integer Chern labels as indices into CHERN_CLASSES (clipped to its range)."""
    lo = CHERN_CLASSES[0]
    return ops.clip(ops.reshape(ops.cast(y_true, "int32"), (-1,)) - lo, 0, len(CHERN_CLASSES) - 1)


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_cross_entropy(y_true, y_pred):
    """Cross-entropy of class logits against integer Chern labels (classes -2 ... 2)."""
    return keras.losses.sparse_categorical_crossentropy(_class_index(y_true), y_pred,
                                                        from_logits=True)


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_expected_error(y_true, y_pred):
    """1 - p(label) of class logits: the expected error rate, bounded per lattice.

    Cross-entropy lets the few lattices a network is confidently wrong on
    dominate; an RG network trained through a frozen base then learns to hedge
    (coarse lattices the base is unsure of), which lowers the loss but costs
    accuracy and does not compose. This loss only pays for getting labels right.
    """
    probs = ops.softmax(ops.cast(y_pred, "float32"), axis=-1)
    return 1.0 - ops.sum(probs * ops.one_hot(_class_index(y_true), len(CHERN_CLASSES)), axis=-1)


LOSSES = {"abs_square": abs_square_loss, "cross_entropy": chern_cross_entropy,
          "expected_error": chern_expected_error}
HEAD_WIDTHS = {loss: {"value": 1, "classes": len(CHERN_CLASSES)}[LOSS_HEADS[loss]] for loss in LOSSES}
"""Outputs of the Chern head each loss trains: one value (Eq. A2) or logits over CHERN_CLASSES."""


def check_known_loss(loss: str) -> None:
    """SpecError unless ``loss`` names one of LOSSES."""
    if loss not in LOSSES:
        raise SpecError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")


def head_loss(model: keras.Model) -> str:
    """The first loss (in LOSSES' order) that fits a network's Chern head, from its width."""
    width = model.output_shape[-1]
    for loss, outputs in HEAD_WIDTHS.items():
        if outputs == width:
            return loss
    raise ModelError(f"{model.name}: a Chern head of {width} outputs matches no loss")


def check_head_loss(model: keras.Model, loss: str) -> None:
    """SpecError unless ``loss`` trains a Chern head like ``model``'s (RG stage: the base's)."""
    check_known_loss(loss)
    if HEAD_WIDTHS[loss] != model.output_shape[-1]:
        raise SpecError(f"loss {loss!r} needs a Chern head of {HEAD_WIDTHS[loss]} outputs; "
                        f"{model.name} has {model.output_shape[-1]} (a {LOSS_HEADS[head_loss(model)]}"
                        " head)")


@keras.saving.register_keras_serializable(package=PACKAGE)
def chern_accuracy(y_true, y_pred):
    """Per lattice 1 if the rounded predicted Chern number equals the label (Keras averages)."""
    y_true = ops.reshape(ops.cast(y_true, "float32"), (-1,))
    y_pred = ops.cast(chern_value(y_pred), "float32")
    return ops.cast(ops.equal(ops.round(y_pred), y_true), "float32")


def lattice_input(canonical: bool):
    """(input, lattice, sign) of a base network: the 4x4 input, what the body reads (the orbit's
    representative with ``canonical``) and the sign ``chern_head`` restores (None without)."""
    inp = keras.Input((BASE_SIZE, BASE_SIZE, 3), name="lattice")
    if not canonical:
        return inp, inp, None
    lattice, sign = CanonicalLattice(name="canonical")(inp)
    return inp, lattice, sign


def chern_head(x, loss: str, sign):
    """The Chern head for ``loss`` on features x, answering for the original lattice."""
    out = layers.Dense(HEAD_WIDTHS[loss], name="chern")(x)
    return out if sign is None else SignedChern(name="signed_chern")([out, sign])
