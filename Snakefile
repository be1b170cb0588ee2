"""Reproduction of Margalit, Lesser, Pereg-Barnea, Oreg, PRB 105, 205139 (2022).

sample shards -> Bott-label shards -> base network -> decimation initialization
-> RG training (epoch checkpoints) -> evaluation -> figures and table.
"""

from snakemake.utils import min_version

min_version("8.10")


# The default config applies when no --configfile is given. A preset such as
# config/test.yaml names config/config.yaml as its `base` and holds only what differs;
# it is resolved here, before the schema check (config/README.md, "Presets").
if not workflow.overwrite_configfiles:

    configfile: f"{workflow.basedir}/config/config.yaml"


from rgtopo.config import resolve as _resolve_config

_full_config = _resolve_config(config, workflow.basedir)
config.clear()
config.update(_full_config)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/baseline.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/size_study.smk"


rule all:
    default_target: True
    input:
        rules.figures.input,
        "results/metrics/accuracy.csv",
        expand("results/metrics/decimation_{padding}.json", padding=DECIMATION_PADDINGS),
        rules.provenance.output,
        rules.export_bundle.output,
        rules.size_study.input if PARAMS.size_study_in_all else [],
