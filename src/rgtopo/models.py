"""Public home of the ready-made lattice models (``rgtopo.models.qwz``, ``haldane``,
``pip_bdg``): they live in ``rgtopo.physics.models``; this is the name users import."""

from .physics.models import haldane, pip_bdg, qwz

__all__ = ["haldane", "pip_bdg", "qwz"]
