"""The size study: labels of uniform lattices from 4x4 up under several disorder conventions
(rgtopo.params.size_study_sets), their fractions, and the chain's accuracy against size.

Part of `all` while size_study.in_all is true (the default config: to 64x64); on its own:
    snakemake convention_study   # the fractions per convention (no network)
    snakemake size_study         # and the chain's accuracy against size
    snakemake size_study --configfile config/size_study.yaml   # to 256x256 (docs/results.md)
With size_study.training.in_study, size_study also trains the measured chain on in one
convention (train_rg_study) and measures it on the same test sets (size_accuracy_tuned).
"""


rule convention_fractions:
    input:
        **get_size_study_sets(),
    output:
        "results/size_study/conventions.csv",
    log:
        "logs/size_study/conventions.log",
    conda:
        "../envs/rgtopo.yaml"
    params:
        sets=get_size_study_set_args(),
        params=PARAMS.size_study.to_json(),
        steps=STEPS,
    shell:
        "{params.steps} size-fractions --params {params.params:q} --sets {params.sets:q}"
        " --out {output} 2> {log}"


rule size_accuracy:
    input:
        **get_size_study_sets(PARAMS.size_study.accuracy_conventions),
        bundle=get_size_study_bundle(),
        statistics=rules.fit_statistics_baseline.output.model,
    output:
        "results/size_study/accuracy.csv",
    log:
        "logs/size_study/accuracy.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        sets=get_size_study_set_args(PARAMS.size_study.accuracy_conventions),
        bundle=get_size_study_bundle_arg,
        params=PARAMS.size_study.to_json(),
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} size-accuracy --params {params.params:q} --threads {threads}"
        " {params.require_gpu} --bundle {params.bundle} --sets {params.sets:q}"
        " --statistics {input.statistics} --out {output} 2> {log}"


rule train_rg_study:
    input:
        **get_size_study_networks(),
        train=get_study_training_shards("train"),
        validation=get_study_training_shards("validation"),
    output:
        epochs=directory("results/size_study/rg/epochs"),
        history="results/size_study/rg/history.csv",
        selected="results/size_study/rg/selected.keras",
    log:
        "logs/size_study/train_rg.log",
    benchmark:
        "results/benchmarks/train_rg_study.tsv"
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        params=PARAMS.size_study_rg.to_json(),
        init=get_init_arg,
        state="results/size_study/rg/state",
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        TRAIN_RG_SHELL


rule size_accuracy_tuned:
    input:
        **get_size_study_sets([PARAMS.size_study_training.convention]),
        bundle=get_size_study_bundle(),
        rg="results/size_study/rg/selected.keras",
        statistics=rules.fit_statistics_baseline.output.model,
    output:
        "results/size_study/accuracy_tuned.csv",
    log:
        "logs/size_study/accuracy_tuned.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        sets=get_size_study_set_args([PARAMS.size_study_training.convention]),
        bundle=get_size_study_bundle_arg,
        params=PARAMS.size_study.to_json(),
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} size-accuracy --params {params.params:q} --threads {threads}"
        " {params.require_gpu} --bundle {params.bundle} --rg-network {input.rg}"
        " --sets {params.sets:q} --statistics {input.statistics} --out {output} 2> {log}"


rule convention_study:
    input:
        expand("results/figures/fig_conventions.{ext}", ext=("png", "pdf", "csv")),


rule size_study:
    input:
        rules.convention_study.input,
        expand("results/figures/fig_size_accuracy.{ext}", ext=("png", "pdf", "csv")),
        expand("results/figures/table_size_accuracy.{ext}", ext=("md", "html", "csv")),
        get_size_study_tuning(),
