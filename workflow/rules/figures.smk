"""Stage 6: every figure and the table, from result files only.

Re-make them alone with the figures profile:
    snakemake --workflow-profile profiles/figures figures
"""


rule fig1b:
    input:
        "results/timing/timing.csv",
    output:
        **figure_outputs("fig1b", "fig1b.rst"),
    log:
        "logs/figures/fig1b.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="fig1b",
        params=as_json(FIG_PARAMS),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig2:
    input:
        "results/models/base_network.keras",
        [reference_dir() / f"data_{k}.mat" for k in (1, 2, 3)],
    output:
        **figure_outputs("fig2", "fig2.rst"),
    log:
        "logs/figures/fig2.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: config["labeling"]["threads"]
    params:
        name="fig2",
        params=as_json(
            FIG_PARAMS
            | {
                "grid": config["figures"]["phase_diagram_grid"],
                "delta0": config["figures"]["delta0"],
            }
        ),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig3:
    input:
        "results/rg/main/history.csv",
    output:
        **figure_outputs("fig3", "fig3.rst"),
    log:
        "logs/figures/fig3.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="fig3",
        params=as_json(
            FIG_PARAMS | {"select_size": config["rg_training"]["select_size"]}
        ),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig4:
    input:
        shards("train_4"),
    output:
        **figure_outputs("fig4", "fig4.rst"),
    log:
        "logs/figures/fig4.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="fig4",
        params=as_json(
            FIG_PARAMS
            | {
                "alpha": config["sampling"]["alpha"],
                "bins": config["figures"]["fig4_bins"],
            }
        ),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig5:
    input:
        "results/rg/main/history.csv",
    output:
        **figure_outputs("fig5", "fig5.rst"),
    log:
        "logs/figures/fig5.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="fig5",
        params=as_json(FIG_PARAMS),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig6:
    input:
        expand("results/rg/{run}/history.csv", run=RUNS),
    output:
        **figure_outputs("fig6", "fig6.rst"),
    log:
        "logs/figures/fig6.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="fig6",
        params=as_json(FIG_PARAMS | {"runs": list(RUNS)}),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig7:
    input:
        "results/rg/main/selected.keras",
    output:
        **figure_outputs("fig7", "fig7.rst"),
    log:
        "logs/figures/fig7.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: config["training"]["threads"]
    params:
        name="fig7",
        params=as_json(
            FIG_PARAMS
            | config["figures"]["points_mapping"]
            | {"delta0": config["figures"]["delta0"]}
        ),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig8:
    input:
        "results/rg/main/selected.keras",
    output:
        **figure_outputs("fig8", "fig8.rst"),
    log:
        "logs/figures/fig8.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: config["training"]["threads"]
    params:
        name="fig8",
        params=as_json(FIG_PARAMS | config["figures"]["impurity"]),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule fig_training:
    input:
        list(training_histories().values()),
    output:
        **figure_outputs("fig_training", "fig_training.rst"),
    log:
        "logs/figures/fig_training.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="fig_training",
        params=as_json(
            FIG_PARAMS
            | {
                "histories": list(training_histories()),
                "select_size": config["rg_training"]["select_size"],
            }
        ),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule table1:
    input:
        "results/metrics/accuracy.csv",
    output:
        md="results/figures/table1.md",
        html=report(
            "results/figures/table1.html",
            caption="../report/table1.rst",
            category="Tables",
            labels={"table": "table1 (view)"},
        ),
        csv=report(
            "results/figures/table1.csv",
            caption="../report/table1.rst",
            category="Tables",
            labels={"table": "table1 (CSV)"},
        ),
    log:
        "logs/figures/table1.log",
    conda:
        "../envs/rgtopo.yaml"
    threads: 1
    params:
        name="table1",
        params=as_json(
            FIG_PARAMS | {"config_name": ",".join(map(str, workflow.configfiles))}
        ),
        stem=lambda wc, output: Path(output[0]).with_suffix(""),
        rgtopo=RGTOPO,
    shell:
        FIGURE_SHELL


rule figures:
    input:
        [
            f"results/figures/{name}.{ext}"
            for name in FIGURES
            for ext in ("png", "pdf", "csv")
        ],
        rules.table1.output,
