"""Typed stage parameters: one frozen dataclass per stage, built once from the resolved config.

Each class here is the one list of a stage's keys. ``from_config(config, ...)``
builds it from a resolved config (``rgtopo.config.load_config``, or the
workflow's ``config``); the rules pass ``to_json()`` to the command line, whose
commands rebuild it with ``from_dict``. A missing, unknown or ill-typed key is
one SpecError line naming it. Values are checked, not converted (an integer
stays an integer in a float field), so the JSON the rules pass, and with it
Snakemake's parameter check and the training fingerprints, stays as it was.

Adding a key to a stage: put it in the config (config/config.yaml, its schema
workflow/schemas/config.schema.yaml, config/README.md) and add one line
``name: type`` to the stage's class. ``from_config`` takes the whole
config section, so nothing else changes; a section key without a field is
rejected, so no key is silently ignored. Field types: int, float, bool, str,
a Literal of choices, an optional one (``float | None``), a tuple (``tuple[float, float]``, ``tuple[int, ...]``) or
another of these classes (a nested mapping).

The classes live by topic (``core``: the machinery; ``data``: sampling and labeling;
``networks``: each network's shape, the losses;
``stages``: training, evaluation, timing, resources; ``figures``; ``size_study``;
``workflow``: every section at once); import them from here.
"""

from .core import BASE_SIZE, FIXED_DISORDER, NetworkParams, Params, SectionParams
from .data import (
                      LABEL_METHODS,
                      DatasetSpec,
                      Disorder,
                      DisorderScaling,
                      LabelingParams,
                      LocalizerParams,
)
from .figures import (
                      DensityParams,
                      FigureParams,
                      ImpurityParams,
                      PhaseDiagramParams,
                      PointsMappingParams,
                      SelectionParams,
                      TableParams,
)
from .networks import (
                      BASE_NETWORK_PARAMS,
                      LOSS_HEADS,
                      ConvParams,
                      RGParams,
                      SpectralParams,
                      base_network_params,
)
from .size_study import (
                      Convention,
                      SizeStudyParams,
                      SizeStudyTraining,
                      size_study_set,
                      size_study_sets,
                      size_study_training_sets,
)
from .stages import (
                      RUN_KEYS,
                      BaseNetworkParams,
                      DecimationParams,
                      EvaluationParams,
                      Optimizer,
                      ResourcesParams,
                      RGTrainingParams,
                      StatisticsBaselineParams,
                      TimingParams,
                      TrainingParams,
)
from .workflow import WorkflowParams

__all__ = [
    "BASE_NETWORK_PARAMS", "BASE_SIZE", "ConvParams", "FIXED_DISORDER", "RGParams",
    "SpectralParams", "base_network_params", "LABEL_METHODS", "LOSS_HEADS", "RUN_KEYS", "BaseNetworkParams", "Convention",
    "DatasetSpec", "DecimationParams", "DensityParams", "Disorder", "DisorderScaling",
    "EvaluationParams", "FigureParams", "ImpurityParams", "LabelingParams", "LocalizerParams",
    "NetworkParams", "Optimizer", "Params", "PhaseDiagramParams", "PointsMappingParams",
    "RGTrainingParams", "ResourcesParams", "SectionParams", "SelectionParams", "SizeStudyParams",
    "SizeStudyTraining", "StatisticsBaselineParams", "TableParams", "TimingParams", "TrainingParams", "WorkflowParams",
    "size_study_set", "size_study_sets", "size_study_training_sets",
]
