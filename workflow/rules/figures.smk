"""Stage 6: every figure and the table, from result files only.

Re-make them alone with the figures profile:
    snakemake --profile workflow/profiles/figures
"""

FIG_PARAMS = {"seed": config["seed"]}


def figure_outputs(name, caption, category="Figures"):
    return {
        "png": report(
            f"results/figures/{name}.png",
            caption=f"../report/{caption}",
            category=category,
            labels={"figure": name},
        ),
        "pdf": f"results/figures/{name}.pdf",
        "csv": f"results/figures/{name}.csv",
    }


FIGURE_SHELL = (
    "{params.rgtopo} figure {params.name} --params {params.params:q} --threads {threads}"
    " --inputs {input} --out {params.stem} 2> {log}"
)


rule fig1b:
    input:
        "results/timing/timing.csv",
    output:
        **figure_outputs("fig1b", "fig1b.rst"),
    params:
        name="fig1b",
        params=as_json(FIG_PARAMS),
        stem="results/figures/fig1b",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig1b.log",
    threads: 1
    shell:
        FIGURE_SHELL


rule fig2:
    input:
        "results/models/base_network.keras",
        [reference_dir() / f"data_{k}.mat" for k in (1, 2, 3)],
    output:
        **figure_outputs("fig2", "fig2.rst"),
    params:
        name="fig2",
        params=as_json(
            FIG_PARAMS
            | {
                "grid": config["figures"]["phase_diagram_grid"],
                "delta0": config["figures"]["delta0"],
            }
        ),
        stem="results/figures/fig2",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig2.log",
    threads: config["labeling"]["threads"]
    shell:
        FIGURE_SHELL


rule fig3:
    input:
        "results/rg/main/history.csv",
    output:
        **figure_outputs("fig3", "fig3.rst"),
    params:
        name="fig3",
        params=as_json(FIG_PARAMS),
        stem="results/figures/fig3",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig3.log",
    threads: 1
    shell:
        FIGURE_SHELL


rule fig4:
    input:
        shards("train_4"),
    output:
        **figure_outputs("fig4", "fig4.rst"),
    params:
        name="fig4",
        params=as_json(
            FIG_PARAMS
            | {"alpha": config["sampling"]["alpha"], "bins": config["figures"]["fig4_bins"]}
        ),
        stem="results/figures/fig4",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig4.log",
    threads: 1
    shell:
        FIGURE_SHELL


rule fig5:
    input:
        "results/rg/main/history.csv",
    output:
        **figure_outputs("fig5", "fig5.rst"),
    params:
        name="fig5",
        params=as_json(FIG_PARAMS),
        stem="results/figures/fig5",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig5.log",
    threads: 1
    shell:
        FIGURE_SHELL


rule fig6:
    input:
        expand("results/rg/{run}/history.csv", run=RUNS),
    output:
        **figure_outputs("fig6", "fig6.rst"),
    params:
        name="fig6",
        params=as_json(FIG_PARAMS | {"runs": list(RUNS)}),
        stem="results/figures/fig6",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig6.log",
    threads: 1
    shell:
        FIGURE_SHELL


rule fig7:
    input:
        "results/rg/main/selected.keras",
    output:
        **figure_outputs("fig7", "fig7.rst"),
    params:
        name="fig7",
        params=as_json(
            FIG_PARAMS
            | config["figures"]["points_mapping"]
            | {"delta0": config["figures"]["delta0"]}
        ),
        stem="results/figures/fig7",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig7.log",
    threads: config["training"]["threads"]
    shell:
        FIGURE_SHELL


rule fig8:
    input:
        "results/rg/main/selected.keras",
    output:
        **figure_outputs("fig8", "fig8.rst"),
    params:
        name="fig8",
        params=as_json(FIG_PARAMS | config["figures"]["impurity"]),
        stem="results/figures/fig8",
        rgtopo=RGTOPO,
    log:
        "logs/figures/fig8.log",
    threads: config["training"]["threads"]
    shell:
        FIGURE_SHELL


rule table1:
    input:
        "results/metrics/accuracy.csv",
    output:
        md="results/figures/table1.md",
        csv=report(
            "results/figures/table1.csv",
            caption="../report/table1.rst",
            category="Tables",
            labels={"table": "table1"},
        ),
    params:
        name="table1",
        params=as_json(FIG_PARAMS | {"config_name": ",".join(map(str, workflow.configfiles))}),
        stem="results/figures/table1",
        rgtopo=RGTOPO,
    log:
        "logs/figures/table1.log",
    threads: 1
    shell:
        FIGURE_SHELL


rule figures:
    input:
        [f"results/figures/{name}.{ext}" for name in FIGURES for ext in ("png", "pdf", "csv")],
        "results/figures/table1.md",
        "results/figures/table1.csv",
