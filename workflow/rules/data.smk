"""Stage 1: sample dataset shards and label them (dense Bott index or spectral localizer)."""


wildcard_constraints:
    dataset="[a-z]+(-[a-z][a-z0-9]*){0,2}_[0-9]+",
    shard="[0-9]{4}",


rule sample_shard:
    output:
        temp("results/raw/{dataset}/shard_{shard}.h5"),
    log:
        "logs/sample/{dataset}/shard_{shard}.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    resources:
        mem_mb=PARAMS.resources.default_mem_mb,
        runtime=30,
    params:
        spec=lambda wc: get_dataset_spec(wc.dataset).to_json(),
        shard_size=PARAMS.shard_size,
        total=lambda wc: get_dataset_count(wc.dataset),
        steps=STEPS,
    shell:
        "{params.steps} sample --spec {params.spec:q} --shard {wildcards.shard}"
        " --shard-size {params.shard_size} --count {params.total} --out {output} 2> {log}"


rule label_shard:
    input:
        "results/raw/{dataset}/shard_{shard}.h5",
    output:
        "results/data/{dataset}/shard_{shard}.h5",
    log:
        "logs/label/{dataset}/shard_{shard}.log",
    benchmark:
        "results/benchmarks/label/{dataset}/shard_{shard}.tsv"
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.labeling.threads
    resources:
        mem_mb=PARAMS.resources.default_mem_mb,
        runtime=PARAMS.resources.label_runtime_min,
    params:
        chunk=PARAMS.labeling.progress_every,
        method=lambda wildcards: get_label_method(wildcards.dataset),
        labeling=lambda wildcards: get_labeling_params(wildcards.dataset),
        steps=STEPS,
    shell:
        "{params.steps} label --in {input} --out {output} --threads {threads}"
        " --method {params.method} --params {params.labeling:q} --chunk {params.chunk} 2> {log}"


rule data:
    input:
        [shards(name) for name in DATASETS if not name.startswith("decimation")],
