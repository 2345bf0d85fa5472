"""Ontologies shipped for known datasets: nnU-Net label ids plus structures as label sets.

L2 descriptions are hand-written from shape, location, intensity and texture, so that L1 and L2
prompts name the same voxels in different words. `heldout` wordings are never trained on: the evaluation asks
them (levels L2_heldout / L3_heldout) to measure invariance to wording a model has not seen.
"""

from __future__ import annotations

from typing import Any

from nnunet_semantic.prompts.ontology import Ontology


def _s(labels, names, synonyms, descriptions, heldout=()) -> dict[str, Any]:
    return {"labels": list(labels), "names": names, "synonyms": synonyms, "descriptions": descriptions,
            "heldout": list(heldout)}


_GLIOMA = {
    "whole tumor": _s((1, 2, 3), ["whole tumor", "glioma", "brain tumor"], ["complete tumor region", "WT"], [
        "the abnormal FLAIR-hyperintense region of the brain",
        "the entire lesion including its surrounding swelling",
        "the irregular mass in the cerebral hemisphere together with its edema",
    ], ["total tumor extent", "the tumor with all its surrounding swelling"]),
    "tumor core": _s((1, 3), ["tumor core"], ["TC", "solid tumor"], [
        "the bulk of the tumor without the surrounding edema",
        "the necrotic center and the enhancing rim of the tumor",
        "the part of the glioma that would be resected",
    ], ["core of the tumor", "the resectable solid part of the tumor"]),
    "enhancing tumor": _s((3,), ["enhancing tumor", "enhancing tumor tissue"], ["ET", "contrast-enhancing tumor"], [
        "the contrast-enhancing rim of the tumor",
        "the tumor tissue that is bright on post-contrast T1",
        "the gadolinium-avid part of the glioma",
    ], ["enhancing rim", "the part of the tumor that lights up with contrast"]),
    "necrotic tumor core": _s((1,), ["necrotic tumor core", "necrosis", "non-enhancing tumor core"],
                              ["NCR", "NETC", "tumor necrosis"], [
        "the dark non-enhancing center of the tumor",
        "the necrotic center surrounded by the enhancing rim",
        "the central tumor tissue that does not take up contrast",
    ], ["necrotic core", "the dead tissue at the center of the tumor"]),
    "edema": _s((2,), ["edema", "peritumoral edema"], ["ED", "SNFH", "peritumoral swelling"], [
        "the swollen white matter surrounding the tumor",
        "the FLAIR-bright region around the tumor core",
        "the finger-like hyperintensity spreading along the white matter",
    ], ["vasogenic edema", "the brain swelling around the tumor"]),
}

_BRATS_2024_EXTRA = {
    "resection cavity": _s((4,), ["resection cavity"], ["RC", "surgical cavity"], [
        "the fluid-filled cavity left by surgery",
        "the postoperative hole where tumor was removed",
    ], ["postoperative cavity", "the space left after tumor removal"]),
}

ONTOLOGIES: dict[str, dict[str, Any]] = {
    "msd_braintumour": {
        "labels": {"background": 0, "edema": 1, "non-enhancing tumor": 2, "enhancing tumour": 3},
        "structures": {
            "whole tumor": {**_GLIOMA["whole tumor"], "labels": [1, 2, 3]},
            "tumor core": {**_GLIOMA["tumor core"], "labels": [2, 3]},
            "enhancing tumor": {**_GLIOMA["enhancing tumor"], "labels": [3]},
            "non-enhancing tumor": _s((2,), ["non-enhancing tumor", "necrotic and non-enhancing tumor"],
                                      ["NET", "necrosis"], [
                "the dark non-enhancing center of the tumor",
                "the solid or necrotic tumor tissue that does not take up contrast",
            ], ["non-enhancing core", "the tumor tissue that stays dark after contrast"]),
            "edema": {**_GLIOMA["edema"], "labels": [1]},
        },
    },
    "msd_liver": {
        "labels": {"background": 0, "liver": 1, "cancer": 2},
        "structures": {
            "liver": _s((1, 2), ["liver"], ["hepar", "hepatic organ"], [
                "the large wedge-shaped organ in the right upper abdomen",
                "the largest solid organ beneath the right hemidiaphragm",
                "the homogeneous soft-tissue organ of the right upper quadrant",
            ], ["whole liver", "the organ under the right diaphragm"]),
            "liver tumor": _s((2,), ["liver tumor", "liver cancer", "tumor", "cancer"],
                              ["hepatic tumor", "liver lesion", "hepatic lesion"], [
                "the focal mass within the liver",
                "the hypodense lesion inside the liver",
                "the abnormal nodule in the hepatic parenchyma",
            ], ["hepatic mass", "the focal abnormality inside the liver"]),
        },
    },
    "msd_hippocampus": {
        "labels": {"background": 0, "Anterior": 1, "Posterior": 2},
        "structures": {
            "hippocampus": _s((1, 2), ["hippocampus"], ["hippocampal formation", "whole hippocampus"], [
                "the seahorse-shaped gray matter structure in the medial temporal lobe",
                "the curved structure along the floor of the temporal horn of the lateral ventricle",
                "the elongated medial temporal structure involved in memory",
            ], ["hippocampal complex", "the entire hippocampus from head to tail",
                "the curved gray matter ridge in the medial temporal lobe"]),
            "anterior hippocampus": _s((1,), ["anterior hippocampus", "hippocampal head"],
                                       ["head of the hippocampus", "pes hippocampi"], [
                "the bulbous front end of the hippocampus",
                "the broad anterior part of the hippocampus next to the amygdala",
                "the rostral portion of the hippocampus with its digitations",
            ], ["front part of the hippocampus", "rostral hippocampus",
                "the thick front end of the hippocampus near the amygdala"]),
            "posterior hippocampus": _s((2,), ["posterior hippocampus"],
                                        ["hippocampal body and tail", "body and tail of the hippocampus"], [
                "the narrow rear part of the hippocampus curving towards the splenium",
                "the thin posterior portion of the hippocampus",
                "the tapering caudal part of the hippocampus",
            ], ["rear part of the hippocampus", "hippocampal tail", "the slender back portion of the hippocampus"]),
        },
    },
    "msd_prostate": {
        "labels": {"background": 0, "PZ": 1, "TZ": 2},
        "structures": {
            "prostate": _s((1, 2), ["prostate", "prostate gland"], ["whole prostate"], [
                "the walnut-shaped gland below the bladder",
                "the glandular organ surrounding the proximal urethra",
                "the rounded gland in front of the rectum",
            ], ["prostatic gland", "the gland between the bladder and the rectum"]),
            "peripheral zone": _s((1,), ["peripheral zone", "prostate peripheral zone"], ["PZ"], [
                "the crescent-shaped outer zone of the prostate facing the rectum",
                "the T2-bright posterior outer part of the prostate",
            ], ["outer prostate zone", "the peripheral part of the prostate"]),
            "transition zone": _s((2,), ["transition zone", "prostate transition zone"], ["TZ", "central gland"], [
                "the inner zone of the prostate around the urethra",
                "the heterogeneous T2-intermediate central part of the prostate",
            ], ["inner prostate zone", "the periurethral part of the prostate"]),
        },
    },
    "msd_pancreas": {
        "labels": {"background": 0, "pancreas": 1, "cancer": 2},
        "structures": {
            "pancreas": _s((1, 2), ["pancreas"], ["pancreatic gland"], [
                "the elongated retroperitoneal gland behind the stomach",
                "the lobulated organ lying across the spine between duodenum and spleen",
                "the soft-tissue gland running along the splenic vein",
            ], ["pancreatic parenchyma", "the gland behind the stomach"]),
            "pancreatic tumor": _s((2,), ["pancreatic tumor", "pancreatic cancer", "tumor", "cancer"],
                                   ["pancreatic mass", "pancreatic lesion", "pancreatic neoplasm"], [
                "the hypodense mass within the pancreas",
                "the focal lesion arising from the pancreas",
                "the cystic or solid pancreatic neoplasm",
            ], ["tumor of the pancreas", "the abnormal growth in the pancreas"]),
        },
    },
    "msd_hepaticvessel": {
        "labels": {"background": 0, "Vessel": 1, "Tumour": 2},
        "structures": {
            "hepatic vessel": _s((1,), ["hepatic vessel", "liver vessel", "vessel"], ["hepatic vasculature"], [
                "the branching contrast-filled tubes inside the liver",
                "the bright tubular structures running through the liver",
            ], ["intrahepatic vessels", "the blood vessels of the liver"]),
            "liver tumor": _s((2,), ["liver tumor", "hepatic tumor", "tumor"], ["liver lesion", "hepatic lesion"], [
                "the focal lesion within the liver next to the vessels",
                "the round hypodense mass in the liver",
            ], ["hepatic mass", "the focal abnormality inside the liver"]),
            "hepatic vessels and tumors": _s((1, 2), ["hepatic vessels and tumors"], ["annotated liver structures"], [
                "all vessels and lesions annotated in the liver",
            ], ["all annotated liver findings"]),
        },
    },
    "kits23": {
        "labels": {"background": 0, "kidney": 1, "tumor": 2, "cyst": 3},
        "structures": {
            "kidney": _s((1, 2, 3), ["kidney"], ["renal parenchyma", "renal organ"], [
                "the bean-shaped retroperitoneal organ",
                "the paired organ beside the spine at the level of the upper lumbar vertebrae",
                "the organ with cortex and medulla that drains into the ureter",
            ], ["whole kidney", "the organ that makes urine"]),
            "kidney tumor": _s((2,), ["kidney tumor", "renal tumor", "tumor"], ["renal neoplasm", "renal carcinoma"], [
                "the solid enhancing lesion arising from the kidney",
                "the heterogeneous mass growing out of the renal cortex",
            ], ["kidney cancer", "the solid growth in the kidney"]),
            "kidney cyst": _s((3,), ["kidney cyst", "renal cyst", "cyst"], ["simple renal cyst"], [
                "the fluid-filled round lesion of the kidney",
                "the thin-walled water-density lesion in the kidney",
            ], ["renal cystic lesion", "the water-filled bubble in the kidney"]),
            "kidney masses": _s((2, 3), ["masses", "kidney masses", "renal masses"], ["renal lesions"], [
                "all tumors and cysts of the kidney",
                "every focal lesion of the kidney, solid or cystic",
            ], ["kidney lesions", "all focal findings in the kidney"]),
        },
    },
    "brats": {
        "labels": {"background": 0, "necrotic tumor core": 1, "edema": 2, "enhancing tumor": 3},
        "structures": _GLIOMA,
    },
    "brats2024": {
        "labels": {"background": 0, "necrotic tumor core": 1, "edema": 2, "enhancing tumor": 3,
                   "resection cavity": 4},
        "structures": {**_GLIOMA, **_BRATS_2024_EXTRA},
    },
    "phantom": {
        "labels": {"background": 0, "organ": 1, "lesion": 2, "cyst": 3, "nodule": 4},
        "structures": {
            "organ": _s((1, 2, 3), ["organ", "phantom organ"], ["ellipsoid organ"], [
                "the large oval structure in the middle of the image",
                "the big ellipsoid with a smooth texture",
                "the central organ that holds the textured regions",
            ], ["oval organ", "the big smooth ellipse at the centre of the image"]),
            "lesion": _s((2,), ["lesion", "textured lesion"], ["checkered lesion"], [
                "the finely checkered spot inside the organ",
                "the region of fine high-frequency texture within the organ",
            ], ["checkerboard spot", "the small finely patterned patch inside the organ"]),
            "cyst": _s((3,), ["cyst", "striped cyst"], ["striped region"], [
                "the striped round region inside the organ",
                "the region of coarse stripes within the organ",
            ], ["banded cyst", "the round patch with thick stripes in the organ"]),
            "masses": _s((2, 3), ["masses", "organ masses"], ["lesions and cysts"], [
                "every textured region inside the organ",
            ], ["all textured patches", "the patterned parts of the organ"]),
            "nodule": _s((4,), ["nodule", "satellite nodule"], ["bright nodule"], [
                "the small bright disc outside the organ",
                "the separate round structure beside the organ",
            ], ["bright satellite", "the small round blob beside the organ"]),
        },
    },
}


def get_ontology(key: str) -> Ontology:
    return Ontology.from_dict({"version": 1, "structures": ONTOLOGIES[key]["structures"]}, f"<shipped {key}>")


def generic_ontology(labels: dict[str, int]) -> Ontology:
    """One structure per label, named by the label: the fallback for datasets with no shipped ontology."""
    return Ontology.from_dict({"structures": {
        name: {"labels": [int(i)], "names": [name]} for name, i in labels.items() if int(i) > 0}},
        "<generic>")
