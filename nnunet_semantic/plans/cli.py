"""`nnunet-semantic plan-cpu`."""

from __future__ import annotations

from nnunet_semantic.arguments import at_least


def _plan_cpu(args) -> int:
    from nnunet_semantic.paths import preprocessed_dataset_folder
    from nnunet_semantic.plans.cpu import CPU_CONFIGURATION, add_cpu_configuration

    folder = preprocessed_dataset_folder(args.d)
    entry = add_cpu_configuration(folder, args.p, args.batch_size, args.target_seconds)
    print(f"added '{CPU_CONFIGURATION}' (inherits from 2d, batch size {entry['batch_size']}) to "
          f"{folder / (args.p + '.json')}\nnext: nnUNetv2_train {args.d} {CPU_CONFIGURATION} 0 -tr SemanticTrainer "
          "-device cpu")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("plan-cpu", help="add a CPU-sized 2d_cpu configuration to the dataset's plans",
                       description="Add '2d_cpu' to nnUNetPlans.json: inherits from '2d' with a batch size that keeps "
                       "one SemanticTrainer iteration near --target-seconds on this machine (measured), or the "
                       "given --batch-size.")
    p.add_argument("-d", required=True, help="dataset id or name")
    p.add_argument("-p", default="nnUNetPlans", help="plans identifier (default: nnUNetPlans)")
    p.add_argument("--batch-size", type=at_least(1), help="use this batch size instead of measuring")
    p.add_argument("--target-seconds", type=float, default=1.0, help="seconds per iteration to aim for (default 1)")
    p.set_defaults(func=_plan_cpu)
