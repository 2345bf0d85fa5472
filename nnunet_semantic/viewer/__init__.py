"""The napari plugin (`pip install -e .[napari]`): type prompts over an image layer, get each one's mask as a
Labels layer and how it was read. `session` holds the model and the image with no Qt in it; `widget` is the dock
widget napari shows; `files` opens NIfTI / nnU-Net raw cases and saves masks in the image's geometry."""
