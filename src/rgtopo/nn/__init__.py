"""The networks in Keras 3: base networks (``conv``: the paper's Appendix A; ``spectral``: the
default), the RG network (Appendix B) and the chain of the two.

* ``layers``: the custom Keras layers; ``heads``: losses and Chern heads;
* ``conv``, ``spectral``, ``rg``: one module per architecture, each with its parameters;
* ``registry``: base architectures by name; ``chain``: the network pair, for training and
  inference; ``saving``: ``load_model``.

Importing this package registers the custom pieces with Keras, so ``load_model`` (or
``keras.saving.load_model``) needs no custom_objects.
"""

from .chain import apply_rg, base_level, base_levels, compound_network
from .heads import (
    CHERN_CLASSES,
    HEAD_WIDTHS,
    LOSSES,
    abs_square_loss,
    check_head_loss,
    chern_accuracy,
    chern_cross_entropy,
    chern_expected_error,
    chern_value,
    head_loss,
)
from .layers import ConditionedShifts, DisorderFeatures, LatticePad
from .registry import BASE_NETWORKS, base_network
from .rg import decimation_kernel, rg_network
from .saving import load_model
from .spectral import feature_scales

__all__ = [
    "BASE_NETWORKS", "CHERN_CLASSES", "HEAD_WIDTHS", "LOSSES", "ConditionedShifts",
    "DisorderFeatures", "LatticePad", "abs_square_loss", "apply_rg", "base_level", "base_levels",
    "base_network", "check_head_loss", "chern_accuracy", "chern_cross_entropy",
    "chern_expected_error", "chern_value", "compound_network", "decimation_kernel",
    "feature_scales", "head_loss", "load_model", "rg_network",
]
