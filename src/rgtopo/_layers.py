"""The package's layers, lowest first: a module imports only from its own layer and lower ones.

tests/test_layering.py holds every import in ``src/rgtopo`` (module-level and inside
functions) to this list, finds no cycle, and knows no exceptions; a new module is added
here. Within ``rgtopo.nn`` the same rule orders layers, heads, the architectures and what
composes them.
"""

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("rgtopo", "rgtopo._layers", "rgtopo.errors", "rgtopo.params",
                    "rgtopo.params.core", "rgtopo.params.data", "rgtopo.params.stages",
                    "rgtopo.params.figures", "rgtopo.params.size_study", "rgtopo.params.workflow",
                    "rgtopo.config", "rgtopo.io", "rgtopo.symmetries", "rgtopo.phase_diagram")),
    ("physics", ("rgtopo.solvers", "rgtopo.hamiltonian", "rgtopo.models", "rgtopo.lattice",
                 "rgtopo.bott", "rgtopo.localizer", "rgtopo.chern",
                 "rgtopo.sampling", "rgtopo.metrics")),
    ("data", ("rgtopo.shards", "rgtopo.lattice_io", "rgtopo.hamiltonian_io", "rgtopo.batches", "rgtopo.datasets")),
    ("network layers", ("rgtopo.nn.layers",)),
    ("network heads", ("rgtopo.nn.heads",)),
    ("architectures", ("rgtopo.nn.conv", "rgtopo.nn.spectral", "rgtopo.nn.rg")),
    ("networks", ("rgtopo.nn.registry", "rgtopo.nn.chain", "rgtopo.nn.saving", "rgtopo.nn")),
    ("training", ("rgtopo.devices", "rgtopo.training", "rgtopo.provenance",
                  "rgtopo.statistics_baseline")),
    ("bundles", ("rgtopo.bundle",)),
    ("inference", ("rgtopo.inference", "rgtopo.evaluation", "rgtopo.reference",
                   "rgtopo.rg_analysis", "rgtopo.timing", "rgtopo.size_study")),
    ("figures", ("rgtopo.figures", "rgtopo.figure_registry")),
    ("commands", ("rgtopo.cli", "rgtopo.steps", "rgtopo.__main__")),
)
