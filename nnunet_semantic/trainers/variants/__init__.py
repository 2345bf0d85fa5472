"""Trainer variants by topic, the nnU-Net way (`nnUNetTrainer_5epochs`): each changes one attribute of the recipe.
`ablations` answer which part of the recipe matters, `baselines` are the designs compared against, `sampling` draws
a merged dataset's sources, `schedules` are budgets."""
