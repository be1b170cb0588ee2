"""Stage 5: accuracies of every network against the paper's numbers, run times, model bundle.

RUN (evaluation.run) is the RG network reported, timed and bundled; the evaluation compares it
with evaluation.uninitialized_run, the run that started at random.
"""


rule evaluate:
    input:
        base="results/models/base_network.keras",
        selected=f"results/rg/{RUN}/selected.keras",
        main_history=f"results/rg/{RUN}/history.csv",
        uninitialized_history=f"results/rg/{PARAMS.uninitialized_run}/history.csv",
        main_epochs=f"results/rg/{RUN}/epochs",
        uninitialized_epochs=f"results/rg/{PARAMS.uninitialized_run}/epochs",
        tests=[shards(f"test_{n}") for n in test_sets()],
        statistics=rules.fit_statistics_baseline.output.model,
    output:
        csv="results/metrics/accuracy.csv",
        json="results/metrics/accuracy.json",
    log:
        "logs/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate.tsv"
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        params=PARAMS.evaluation.to_json(),
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} evaluate --params {params.params:q} --threads {threads} {params.require_gpu}"
        " --base {input.base} --tests {input.tests} --selected {input.selected}"
        " --main-history {input.main_history}"
        " --uninitialized-history {input.uninitialized_history}"
        " --main-epochs {input.main_epochs}"
        " --uninitialized-epochs {input.uninitialized_epochs}"
        " --statistics {input.statistics} --csv-out {output.csv} --json-out {output.json} 2> {log}"


rule measure_timing:
    input:
        base="results/models/base_network.keras",
        rg=f"results/rg/{RUN}/selected.keras",
    output:
        "results/timing/timing.csv",
    log:
        "logs/measure_timing.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        params=PARAMS.timing.to_json(),
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} timing --params {params.params:q} --threads {threads} {params.require_gpu}"
        " --base {input.base} --rg {input.rg} --out {output} 2> {log}"


rule export_bundle:
    input:
        base="results/models/base_network.keras",
        rg=f"results/rg/{RUN}/selected.keras",
        metrics="results/metrics/accuracy.json",
    output:
        directory("results/bundle"),
    log:
        "logs/export_bundle.log",
    conda:
        "../envs/rgtopo.yaml"
    params:
        config=as_json(config),
        rgtopo=RGTOPO,
    shell:
        "{params.rgtopo} export-bundle --base {input.base} --rg {input.rg}"
        " --metrics {input.metrics} --config-json {params.config:q} --out {output} 2> {log}"


rule evaluation:
    input:
        rules.evaluate.output,
        rules.measure_timing.output,
