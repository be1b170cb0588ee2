"""Stages 2-4: base network, decimation initialization, RG training with epoch checkpoints.

Resumable state lives in results/training/<stage>/state, which is not an output:
Snakemake deletes outputs before a job runs, so a rerun after a kill or a
SLURM time-out finds the state there and continues from the last epoch.
"""


rule train_base:
    input:
        train=base_train_shards(),
        validation=base_validation_shards(),
    output:
        model="results/models/base_network.keras",
        history="results/training/base_network/history.csv",
    log:
        "logs/train_base.log",
    benchmark:
        "results/benchmarks/train_base.tsv"
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        params=PARAMS.base.to_json(),
        state="results/training/base_network/state",
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} train-base --params {params.params:q} --threads {threads}"
        " {params.require_gpu}"
        " --train {input.train} --validation {input.validation} --model-out {output.model}"
        " --history-out {output.history} --state-dir {params.state} 2> {log}"


rule init_decimation:
    input:
        train=shards("decimation_8", labeled=False),
        check=[shards(f"validation_{n}") for n in PARAMS.check_sizes],
    output:
        model="results/models/rg_decimation_{padding}.keras",
        history="results/training/decimation_{padding}/history.csv",
        metrics="results/metrics/decimation_{padding}.json",
    log:
        "logs/init_decimation_{padding}.log",
    benchmark:
        "results/benchmarks/init_decimation_{padding}.tsv"
    wildcard_constraints:
        padding="|".join(DECIMATION_PADDINGS),
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        params=lambda wc: PARAMS.decimation[wc.padding].to_json(),
        state="results/training/decimation_{padding}/state",
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        "{params.steps} init-decimation --params {params.params:q} --threads {threads}"
        " {params.require_gpu}"
        " --train {input.train} --check {input.check} --model-out {output.model}"
        " --history-out {output.history}"
        " --metrics-out {output.metrics} --state-dir {params.state} 2> {log}"


rule train_rg:
    input:
        base="results/models/base_network.keras",
        init=rg_init,
        train=rg_train_shards(),
        validation=[shards(f"validation_{n}") for n in PARAMS.evaluation.eval_sizes],
    output:
        epochs=directory("results/rg/{run}/epochs"),
        history="results/rg/{run}/history.csv",
        selected="results/rg/{run}/selected.keras",
    log:
        "logs/train_rg_{run}.log",
    benchmark:
        "results/benchmarks/train_rg_{run}.tsv"
    wildcard_constraints:
        run="|".join(RUNS),
    conda:
        "../envs/rgtopo.yaml"
    threads: PARAMS.training.threads
    resources:
        **TRAIN_RESOURCES,
    params:
        params=lambda wc: PARAMS.runs[wc.run].to_json(),
        init=get_init_arg,
        state="results/rg/{run}/state",
        steps=STEPS,
        require_gpu=REQUIRE_GPU,
    shell:
        TRAIN_RG_SHELL


rule base:
    input:
        rules.train_base.output,


rule decimation:
    input:
        expand(
            "results/models/rg_decimation_{padding}.keras", padding=DECIMATION_PADDINGS
        ),


rule rg:
    input:
        expand("results/rg/{run}/selected.keras", run=RUNS),
