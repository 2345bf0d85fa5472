"""Names of structures across the body, none of them any one model's: what a model must refuse when it does not know
them. The predictor calibrates its free-text threshold against those its ontology cannot read (`unknown_threshold`):
one unusual held-out wording of a user's ontology must not open the door to "liver" on a heart model."""

from __future__ import annotations

ANATOMY = (
    # head and neck
    "brain", "cerebrum", "cerebellum", "brainstem", "thalamus", "hypothalamus", "amygdala", "caudate nucleus",
    "putamen", "corpus callosum", "lateral ventricle", "pituitary gland", "optic nerve", "eye", "skull",
    "thyroid gland", "parotid gland", "larynx", "trachea", "esophagus", "carotid artery", "jugular vein",
    # thorax
    "heart", "myocardium", "left ventricle", "right ventricle", "left atrium", "right atrium", "pericardium",
    "lung", "pleura", "bronchus", "aorta", "pulmonary artery", "superior vena cava", "breast", "rib", "sternum",
    # abdomen and pelvis
    "liver", "gallbladder", "spleen", "pancreas", "stomach", "duodenum", "small intestine", "colon", "rectum",
    "appendix", "kidney", "adrenal gland", "ureter", "urinary bladder", "prostate", "uterus", "ovary", "testis",
    "inferior vena cava", "portal vein", "peritoneum",
    # musculoskeletal and others
    "spine", "vertebra", "spinal cord", "intervertebral disc", "pelvis", "femur", "humerus", "tibia", "scapula",
    "clavicle", "hip joint", "knee joint", "skeletal muscle", "skin", "subcutaneous fat", "lymph node",
)
