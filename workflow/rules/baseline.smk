"""The statistics baseline: gradient-boosted trees on per-lattice disorder statistics.

Fitted on the training sets the networks saw (train_<N>), chosen on validation_<N>; the
evaluation and the size study report it beside every network (docs/findings.md).
"""


rule fit_statistics_baseline:
    input:
        train=get_statistics_baseline_shards("train"),
        validation=get_statistics_baseline_shards("validation"),
    output:
        model="results/baseline/statistics_baseline.pkl",
        selection="results/baseline/selection.csv",
        importance="results/baseline/importance.csv",
    log:
        "logs/fit_statistics_baseline.log",
    benchmark:
        "results/benchmarks/fit_statistics_baseline.tsv"
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    params:
        params=PARAMS.statistics_baseline.to_json(),
        steps=STEPS,
    shell:
        "{params.steps} fit-statistics-baseline --params {params.params:q} --threads {threads}"
        " --train {input.train} --validation {input.validation} --model-out {output.model}"
        " --selection-out {output.selection} --importance-out {output.importance} 2> {log}"


rule statistics_baseline:
    input:
        rules.fit_statistics_baseline.output,
