"""The package's layers, lowest first: a module imports only from its own layer and lower ones.

Each layer is a folder (a subpackage), apart from the foundation's and the user's command
line's top-level modules. tests/test_layering.py holds every import in ``src/rgtopo``
(module-level and inside functions) to this list, finds no cycle, and knows no exceptions; a
new module is added here. Within ``rgtopo.nn`` the same rule orders layers, heads, the
architectures and what composes them; within ``rgtopo.training``, scores and schedules come
before the loop and the stages that use them.
"""

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("rgtopo", "rgtopo._layers", "rgtopo.errors", "rgtopo.params",
                    "rgtopo.params.core", "rgtopo.params.data", "rgtopo.params.networks",
                    "rgtopo.params.stages",
                    "rgtopo.params.figures", "rgtopo.params.size_study", "rgtopo.params.workflow",
                    "rgtopo.config", "rgtopo.io", "rgtopo.devices", "rgtopo.provenance")),
    ("physics", ("rgtopo.physics", "rgtopo.physics.symmetries", "rgtopo.physics.phase_diagram",
                 "rgtopo.physics.solvers", "rgtopo.physics.system",
                 "rgtopo.physics.spectral_localizer", "rgtopo.physics.hamiltonian",
                 "rgtopo.physics.lattice",
                 "rgtopo.physics.bott", "rgtopo.physics.localizer", "rgtopo.physics.models",
                 "rgtopo.physics.chern", "rgtopo.physics.sampling", "rgtopo.models")),
    ("data", ("rgtopo.data", "rgtopo.data.shards", "rgtopo.data.lattice_io",
              "rgtopo.data.hamiltonian_io", "rgtopo.data.batches", "rgtopo.data.datasets")),
    ("network layers", ("rgtopo.nn.layers",)),
    ("network heads", ("rgtopo.nn.heads",)),
    ("architectures", ("rgtopo.nn.conv", "rgtopo.nn.spectral", "rgtopo.nn.rg")),
    ("networks", ("rgtopo.nn.registry", "rgtopo.nn.chain", "rgtopo.nn.saving", "rgtopo.nn")),
    ("scores", ("rgtopo.training", "rgtopo.training.metrics", "rgtopo.training.optimizers")),
    ("training", ("rgtopo.training.loop", "rgtopo.training.stages",
                  "rgtopo.training.statistics_baseline")),
    ("evaluation", ("rgtopo.evaluation", "rgtopo.evaluation.bundle", "rgtopo.evaluation.inference",
                    "rgtopo.evaluation.accuracy", "rgtopo.evaluation.reference",
                    "rgtopo.evaluation.rg_analysis", "rgtopo.evaluation.timing",
                    "rgtopo.evaluation.size_study")),
    ("figures", ("rgtopo.figures", "rgtopo.figures.draw", "rgtopo.figures.curves",
                 "rgtopo.figures.sizes", "rgtopo.figures.registry")),
    ("commands", ("rgtopo.workflow", "rgtopo.workflow.steps", "rgtopo.cli", "rgtopo.__main__")),
)
