"""Stage 5: accuracies of every network against the paper's numbers, run times, model bundle."""


rule evaluate:
    input:
        base="results/models/base_network.keras",
        selected="results/rg/main/selected.keras",
        main_history="results/rg/main/history.csv",
        uninitialized_history="results/rg/uninitialized/history.csv",
        main_epochs="results/rg/main/epochs",
        uninitialized_epochs="results/rg/uninitialized/epochs",
        tests=[shards(f"test_{n}") for n in test_sets()],
    output:
        csv="results/metrics/accuracy.csv",
        json="results/metrics/accuracy.json",
    log:
        "logs/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate.tsv"
    conda:
        "../envs/rgtopo.yaml"
    threads: config["training"]["threads"]
    resources:
        **TRAIN_RESOURCES,
    params:
        params=EvaluationParams.from_config(
            config, train_size=DATASETS["train_8"]["size"]
        ).to_json(),
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} evaluate --params {params.params:q} --threads {threads} {params.require_gpu}"
        " --base {input.base} --tests {input.tests} --selected {input.selected}"
        " --main-history {input.main_history}"
        " --uninitialized-history {input.uninitialized_history}"
        " --main-epochs {input.main_epochs}"
        " --uninitialized-epochs {input.uninitialized_epochs}"
        " --csv-out {output.csv} --json-out {output.json} 2> {log}"


rule measure_timing:
    input:
        base="results/models/base_network.keras",
        rg="results/rg/main/selected.keras",
    output:
        "results/timing/timing.csv",
    log:
        "logs/measure_timing.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: config["training"]["threads"]
    resources:
        **TRAIN_RESOURCES,
    params:
        params=TimingParams.from_config(config).to_json(),
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} timing --params {params.params:q} --threads {threads} {params.require_gpu}"
        " --base {input.base} --rg {input.rg} --out {output} 2> {log}"


rule export_bundle:
    input:
        base="results/models/base_network.keras",
        rg="results/rg/main/selected.keras",
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
