"""Stage 7: the run's provenance (code, packages, TensorFlow device, host, config) for the report.

It runs after every training and evaluation job, so it can read the device each one saw
from the 'TensorFlow devices:' line of its log.
"""

from snakemake import __version__ as SNAKEMAKE_VERSION


rule provenance:
    input:
        list(training_histories().values()),
        "results/metrics/accuracy.csv",
        "results/timing/timing.csv",
    output:
        json="results/provenance.json",
        html=report(
            "results/provenance.html",
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"record": "provenance"},
        ),
    log:
        "logs/provenance.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        params=as_json(
            {
                "config": config,
                "config_files": list(map(str, workflow.configfiles)),
                "snakemake_version": SNAKEMAKE_VERSION,
            }
        ),
        repo=REPO_ROOT,
        logs=job_logs(),
        steps=STEPS,
    shell:
        "{params.steps} provenance --params {params.params:q} --repo {params.repo:q}"
        " --logs {params.logs} --json-out {output.json} --html-out {output.html} 2> {log}"
