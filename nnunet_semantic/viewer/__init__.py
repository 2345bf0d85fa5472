"""The napari plugin (`pip install -e .[napari]`): type prompts over an image layer, get each one's mask as a
Labels layer and how it was read. `session` holds the model and the image with no Qt in it; `widget` is the dock
widget napari shows; `files` opens NIfTI / nnU-Net raw cases and saves masks in the image's geometry.

triton, which torch._dynamo imports where it is installed (torch's CUDA wheels ship it), segfaults when first
imported after napari's OpenGL canvas exists (seen here with Mesa: two LLVMs in one process), and napari imports a
plugin's widget when the user opens it, after the canvas. Prediction here never compiles, so a triton not imported
yet is marked absent, as torch handles a machine without it."""

import sys

sys.modules.setdefault("triton", None)
