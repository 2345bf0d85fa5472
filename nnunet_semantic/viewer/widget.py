"""The dock widget: choose a trained model, pick the image layer(s), type prompts; each prompt becomes a Labels layer
named by it, with how it was read shown beside it. Model loading and prediction run in worker threads (superqt's,
which napari's wrap; theirs would also post every error as a notification with its traceback): the viewer stays
responsive, and what goes wrong is shown as its one line."""

from __future__ import annotations

import traceback
from html import escape
from pathlib import Path

import napari
from napari.utils.colormaps import DirectLabelColormap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import thread_worker

from nnunet_semantic.errors import SemanticError
from nnunet_semantic.viewer.files import PROPERTIES, geometry
from nnunet_semantic.viewer.session import Answer, Progress, PromptSession

READING = "prompt_reading"  # the Labels layer metadata key holding how its prompt was read
IMAGE = "prompt_image"  # ... and the name of the image layer it was predicted on
COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45")  # one per layer


class PromptWidget(QWidget):
    def __init__(self, napari_viewer: napari.Viewer):
        super().__init__()
        self.viewer, self.session, self.worker = napari_viewer, PromptSession(), None
        self.model = QLineEdit(placeholderText="nnUNet_results/DatasetXXX/SemanticTrainer__nnUNetPlans__2d")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        self.folds = QLineEdit("0")
        self.checkpoint = QComboBox()
        self.checkpoint.addItems(["checkpoint_final.pth", "checkpoint_best.pth"])
        self.device = QComboBox()
        self.device.addItems(["cpu", "cuda"])
        self.load_button = QPushButton("Load model")
        self.load_button.clicked.connect(self.load_model)
        self.structures = QLabel("no model loaded")
        self.structures.setWordWrap(True)
        self.layers = QListWidget()
        self.layers.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.prompts = QPlainTextEdit(placeholderText="one prompt per line, e.g. kidney excluding the tumour")
        self.prompts.setMaximumHeight(90)
        self.layers.setMaximumHeight(90)
        self.allow_unknown = QCheckBox("answer wordings the model does not know from their free text")
        self.segment_button = QPushButton("Segment")
        self.segment_button.clicked.connect(self.segment)
        self.progress = QProgressBar()
        self.readings = QTextEdit(readOnly=True)

        model_row = QHBoxLayout()
        model_row.addWidget(self.model)
        model_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("model folder", model_row)
        form.addRow("folds", self.folds)
        form.addRow("checkpoint", self.checkpoint)
        form.addRow("device", self.device)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for w in (
            self.load_button,
            self.structures,
            QLabel("image layer(s), one per channel:"),
            self.layers,
            QLabel("prompts:"),
            self.prompts,
            self.allow_unknown,
            self.segment_button,
            self.progress,
            QLabel("how each prompt was read:"),
        ):
            layout.addWidget(w)
        layout.addWidget(self.readings, stretch=1)
        layout.addWidget(self.readings, stretch=1)
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(self._list_images)
        self._list_images()

    # --- model ------------------------------------------------------------------------------------
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "trained model folder")
        if folder:
            self.model.setText(folder)

    def load_model(self) -> None:
        folds = self.folds.text().replace(",", " ").split()
        if not folds or not all(f == "all" or f.isdigit() for f in folds):
            self.readings.append(f"<b>not loaded</b>: folds '{escape(self.folds.text())}': fold numbers (0 1 2) or all")
            return
        folder = Path(self.model.text().strip())
        self.structures.setText(f"loading {folder} ...")
        load = thread_worker(self.session.load, ignore_errors=True)
        folds = [f if f == "all" else int(f) for f in folds]
        self._run(load(folder, folds, self.checkpoint.currentText(), self.device.currentText()), self._loaded)

    def _loaded(self, structures: list[str]) -> None:
        channels = ", ".join(self.session.channels)
        self.structures.setText(
            f"{self.session.model_folder}\nchannels: {channels}\nstructures:\n" + "\n".join(structures)
        )

    # --- prompts ----------------------------------------------------------------------------------
    def _list_images(self, *_) -> None:
        selected = {i.text() for i in self.layers.selectedItems()}
        self.layers.clear()
        for layer in self.viewer.layers:
            if isinstance(layer, napari.layers.Image):
                self.layers.addItem(layer.name)
                item = self.layers.item(self.layers.count() - 1)
                item.setSelected(layer.name in selected or not selected and self.layers.count() == 1)

    def image_layers(self) -> list:
        """The chosen image layers; the only one where there is one; never a guess among several."""
        names = [i.text() for i in self.layers.selectedItems()]
        if not names and self.layers.count() > 1:
            raise SemanticError("several image layers: choose the one(s) to segment, one per channel")
        return [
            self.viewer.layers[n] for n in names or [self.layers.item(i).text() for i in range(self.layers.count())]
        ]

    def segment(self) -> None:
        try:
            layers = self.image_layers()
            if not layers:
                raise SemanticError("no image layer: open an image first")
            self.session.set_layers(
                [layer.data for layer in layers], layers[0].scale, layers[0].metadata.get(PROPERTIES)
            )
            prompts = self.prompts.toPlainText().splitlines()
            answers = self.session.segment(prompts, self.allow_unknown.isChecked())
        except SemanticError as e:
            self.readings.append(f"<b>not segmented</b>: {escape(str(e))}")
            return
        self._image = layers[0]
        self.readings.clear()  # this run's readings; each layer keeps its own in its metadata
        self._run(thread_worker(lambda: (yield from answers), ignore_errors=True)(), None, self._answered)

    def _answered(self, item: Progress | Answer) -> None:
        if isinstance(item, Progress):
            self.progress.setRange(0, item.total)
            self.progress.setValue(item.done)
            self.progress.setFormat(f"%v/%m {item.what}")
            return
        if item.refused:
            refused = item.refused.replace("--allow-unknown", "the free-text box")  # the command's flag, here
            self.readings.append(f"<b>{escape(item.text)}</b>: refused: {escape(refused)}")
            return
        image = self._image
        mask = item.mask[0] if image.data.ndim == 2 else item.mask
        metadata = {READING: item.reading, PROPERTIES: geometry(image.metadata, image.scale, image.data.shape)}
        for layer in [layer for layer in self.viewer.layers if layer.name == item.text]:
            if layer.metadata.get(IMAGE) == image.name:  # asked again of the same image: replaced
                self.viewer.layers.remove(layer)  # (of another image: kept, napari numbers the new name)
        used = {layer.metadata.get("prompt_color") for layer in self.viewer.layers}
        color = next((c for c in COLORS if c not in used), COLORS[0])
        metadata["prompt_color"], metadata[IMAGE] = color, image.name
        self.viewer.add_labels(
            mask,
            name=item.text,
            scale=image.scale,
            translate=image.translate,
            metadata=metadata,
            colormap=DirectLabelColormap(color_dict={None: "transparent", 0: "transparent", 1: color}),
        )
        self.readings.append(f"<b>{escape(item.text)}</b>: " + escape("; ".join(item.reading)))

    def _run(self, worker, on_return, on_yield=None) -> None:
        """One worker at a time; its result, yields and errors come back on the viewer's thread."""
        self.load_button.setEnabled(False)
        self.segment_button.setEnabled(False)
        if on_return:
            worker.returned.connect(on_return)
        if on_yield:
            worker.yielded.connect(on_yield)
        worker.errored.connect(self._failed)
        worker.finished.connect(self._done)
        self.worker = worker
        worker.start()

    def _failed(self, error: Exception) -> None:
        """Our errors are their one line; anything else (a bug) its line here and its traceback on stderr."""
        if not isinstance(error, SemanticError):
            traceback.print_exception(error)
        line = str(error) if isinstance(error, SemanticError) else f"{type(error).__name__}: {error}"
        self.readings.append(f"<b>failed</b>: {escape(line)}")
        if self.session.predictor is None:
            self.structures.setText("no model loaded")
        else:  # the model loaded before is still the one in use
            self._loaded(self.session.structures)

    def _done(self) -> None:
        self.load_button.setEnabled(True)
        self.segment_button.setEnabled(True)
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat("%v/%m")
        self.worker = None
