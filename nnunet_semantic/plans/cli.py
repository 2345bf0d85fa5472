"""`nnunet-semantic plan-cpu` and `plan-sources`."""

from __future__ import annotations

from nnunet_semantic.arguments import at_least

NNUNET_SCHEDULE = (1000, 250)  # nnUNetTrainer's epochs and iterations per epoch


def _duration(seconds: float) -> str:
    return (
        f"{seconds / 3600:.1f} h"
        if seconds >= 5400
        else f"{seconds / 60:.0f} min"
        if seconds >= 90
        else f"{seconds:.0f} s"
    )


def schedule_costs(seconds_per_iteration: float) -> list[tuple[str, int, int, float]]:
    """(trainer, epochs, iterations per epoch, projected seconds) for each schedule of `SemanticTrainer`, shortest
    first, at the measured step time (data augmentation and the per-epoch validation come on top)."""
    from nnunet_semantic.trainers.variants.schedules import SCHEDULES

    rows = [("SemanticTrainer", NNUNET_SCHEDULE)]
    rows += [
        (f"SemanticTrainer_{name}", (epochs, iterations or NNUNET_SCHEDULE[1]))
        for name, ((epochs, iterations, _), _) in SCHEDULES.items()
    ]
    return sorted(((name, e, i, e * i * seconds_per_iteration) for name, (e, i) in rows), key=lambda r: r[3])


def _plan_cpu(args) -> int:
    from nnunet_semantic.paths import preprocessed_dataset_folder
    from nnunet_semantic.plans.cpu import add_cpu_configuration, cpu_configuration

    folder = preprocessed_dataset_folder(args.d)
    entry = add_cpu_configuration(folder, args.p, args.batch_size, args.target_seconds, args.c)
    configuration = cpu_configuration(args.c)
    seconds = entry["cpu_timing"]["seconds_per_iteration"][entry["batch_size"]]
    costs = schedule_costs(seconds)
    print(
        f"added '{configuration}' (inherits from {args.c}, batch size {entry['batch_size']}) to "
        f"{folder / (args.p + '.json')}\nwhat each schedule costs on this machine ({seconds} s per training "
        "step; augmentation and validation add to it):"
    )
    for name, epochs, iterations, cost in costs:
        print(f"  {name:<28} {epochs:>4} x {iterations:<3} = {epochs * iterations:>6} iterations  ~{_duration(cost)}")
    within_a_day = [name for name, *_, cost in costs if cost <= 24 * 3600] or [costs[0][0]]
    print(
        f"next: nnUNetv2_train {args.d} {configuration} 0 -tr {within_a_day[-1]} -device cpu   "
        "(the longest schedule within a day here)"
    )
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "plan-cpu",
        help="add a CPU-sized 2d_cpu configuration to the dataset's plans",
        description="Add '2d_cpu' to nnUNetPlans.json: inherits from '2d' with a batch size that keeps "
        "one SemanticTrainer iteration near --target-seconds on this machine (measured), or the "
        "given --batch-size; prints what each training schedule will cost at the measured speed.",
    )
    p.add_argument("-d", required=True, help="dataset id or name")
    p.add_argument("-p", default="nnUNetPlans", help="plans identifier (default: nnUNetPlans)")
    p.add_argument(
        "-c",
        default="2d",
        help="the planned configuration to size for the CPU (default: 2d; e.g. "
        "3d_fullres, which becomes 3d_fullres_cpu)",
    )
    p.add_argument("--batch-size", type=at_least(1), help="use this batch size instead of measuring")
    p.add_argument("--target-seconds", type=float, default=1.0, help="seconds per iteration to aim for (default 1)")
    p.set_defaults(func=_plan_cpu)


def _plan_sources(args) -> int:
    from nnunet_semantic.plans.source_preprocessing import plan_sources

    plans = plan_sources(args.d, args.c, args.p, args.np, args.overwrite)
    print(
        f"planned and preprocessed {plans['dataset_name']} '{args.c}' with a plan per source\n"
        f"next: nnUNetv2_train {args.d} {args.c} 0 -tr SemanticTrainer"
        + (" -p " + args.p if args.p != "nnUNetPlans" else "")
    )
    return 0


def add_sources_parser(sub) -> None:
    p = sub.add_parser(
        "plan-sources",
        help="plan and preprocess a merged dataset with each source's own plan",
        description="In place of nnUNetv2_plan_and_preprocess for a dataset made by `merge`: nnU-Net plans a merge "
        "as one dataset (one spacing and patch for all); here each source keeps its own plan (spacing, "
        "normalisation, patch; planned by nnU-Net on its own where it has none) inside one network (the deepest "
        "source's), and its cases are preprocessed with it. Train and predict with nnU-Net's commands as usual.",
    )
    p.add_argument("-d", required=True, help="the merged dataset's id or name")
    p.add_argument("-c", default="2d", help="configuration (default 2d; 3d_fullres, or a plan-cpu one such as 2d_cpu)")
    p.add_argument("-p", default="nnUNetPlans", help="plans identifier (default: nnUNetPlans)")
    p.add_argument("-np", type=at_least(1), default=2, help="preprocessing processes (default 2)")
    p.add_argument("--overwrite", action="store_true", help="replace a plan of the merge as one dataset")
    p.set_defaults(func=_plan_sources)
