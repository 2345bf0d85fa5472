"""Prompts for a user's own dataset, whose ontology is one structure per label (`convert nnunet` without one): read
as people write them ("the kidneys" of `kidney_left` / `kidney_right`, "RUL", "the left parotid" of `Parotid_L`),
never answered with other labels. The held-out set (`data/user_dataset_wordings.json`) was written by helpers who
read only the label names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnunet_semantic.errors import PromptError
from nnunet_semantic.prompts.ontologies import generic_ontology, generic_structures
from nnunet_semantic.prompts.ontology_file import DatasetLabels
from nnunet_semantic.prompts.parser import parse

SET = json.loads((Path(__file__).parent / "data" / "user_dataset_wordings.json").read_text())
KEYS = sorted(k for k in SET if k != "about")


def _ontology(labels: dict):
    return generic_ontology(DatasetLabels.of({"background": 0, **labels}))


def _read(text: str, ontology) -> tuple[set[int], set[int]] | None:
    try:
        p = parse(text, ontology)
    except PromptError:
        return None
    return set(p.target), set(p.avoid)


@pytest.mark.parametrize("key", KEYS)
def test_every_wording_is_read_exactly_or_refused_and_nothing_unanswerable_is_answered(key):
    entries, ontology = SET[key], generic_ontology(DatasetLabels.of(SET[key]["labels"]))

    def labels(names):
        return set().union(*(entries["structures"][n] for n in names))

    for e in entries["resolved"]:
        read = _read(e["text"], ontology)
        assert read is None or read[0] - read[1] == labels(e["target"]) - labels(e["avoid"]), e["text"]
    for e in entries["refused"]:
        assert _read(e["text"], ontology) is None, e["text"]


def test_most_wordings_of_users_datasets_are_read():
    """0.21-0.48 of each set before collectives over disjoint labels and label-name synonyms (sets 11-15 on
    d116029: 0.29, 0.46, 0.26, 0.48 and 0.46); 0.72 of the first six with them; 0.761 of all eleven with general
    anatomy's groups, kinds, ranges and abbreviated label names; 0.780 of thirteen with teeth, lymph-node levels and
    stations, and Latin sides (sets 17 and 18 blind: 0.28 and 0.35, after their misses 0.70 and 0.78); set 19 blind
    0.49, after 0.75; 0.797 of the fourteen with a one-organ dataset's findings, digits, masses, initials of two words
    and more typos, and 0.759 of twenty with sets 16 and 20-24 (21-24 blind: 0.28, 0.55, 0.44 and 0.46, after their
    misses 0.62, 0.81, 0.67 and 0.53); 0.771 of twenty-eight with sets 25-32 (blind 0.49, 0.60, 0.55, 0.60, 0.64,
    0.50, 0.57 and 0.59; after 0.83, 0.88, 0.79, 0.76, 0.78, 0.75, 0.67 and 0.62): Latin, series, halves, label ids;
    0.775 of thirty-four with sets 33-38 (last stop 0.54, 0.55, 0.43, 0.65, 0.59 and 0.67; blind to this session's
    rules 0.43, 0.68, 0.59 and 0.69; after 0.76, 0.84, 0.63, 0.80, 0.62 and 0.69): glosses, organs by their tissues,
    sites, part-noun censuses; 0.776 of thirty-six with sets 39-40 (last stop 0.61 and 0.43, set 40 blind to the rules
    of set 39 0.44; after 0.82 and 0.56, its organ-with-contents readings disputed): dual words, Latin sides,
    TG-263 subtractions, findings named before their site."""
    read = [_read(e["text"], generic_ontology(DatasetLabels.of(SET[k]["labels"]))) for k in KEYS
            for e in SET[k]["resolved"]]
    assert sum(r is not None for r in read) / len(read) >= 0.75


TOTAL = {"kidney_left": 1, "kidney_right": 2, "lung_upper_lobe_left": 3, "lung_lower_lobe_left": 4,
         "lung_lower_lobe_right": 5, "adrenal_gland_left": 6, "adrenal_gland_right": 7, "rib_left_12": 8,
         "rib_right_12": 9, "vertebrae_L1": 10, "vertebrae_L2": 11, "Parotid_L": 12, "Parotid_R": 13,
         "portal_vein_and_splenic_vein": 14, "PatellarCartilage": 15, "inferior_vena_cava": 16, "Brainstem": 17,
         "autochthon_left": 18}


@pytest.mark.parametrize("text,target,avoid", [
    ("the kidneys", {1, 2}, set()),  # a collective over disjoint labels: all of them
    ("both kidneys except the left one", {1, 2}, {1}),  # a side that tells them apart names one
    ("adrenals apart from the right", {6, 7}, {7}),
    ("the left lung", {3, 4}, set()),  # the lobes it is made of
    ("the lower lobes", {4, 5}, set()),  # a part noun the labels are named with
    ("left lung without the lower lobe", {3, 4}, {4}),
    ("both 12th ribs", {8, 9}, set()),  # an ordinal as its number
    ("the lumbar vertebrae", {10, 11}, set()),
    ("L2", {11}, set()),  # a vertebra's level
    ("right suprarenal gland", {7}, set()),  # a synonym, with its side
    ("RUL", None, None),
    ("LLL", {4}, set()),
    ("IVC", {16}, set()),
    ("the parotid on the left side", {12}, set()),  # `Parotid_L`
    ("left parotid and kidney", {12, 1}, set()),  # a list's side carried to its next item
    ("all labels except the ribs", set(TOTAL.values()), {8, 9}),
])
def test_a_users_labels_are_read_as_people_name_them(text, target, avoid):
    read = _read(text, _ontology(TOTAL))
    assert read == (None if target is None else (target, avoid)), text


@pytest.mark.parametrize("text", [
    "the kidney",  # one of two: which?
    "the whole kidney",  # "whole" is all of one, not both
    "the adrenal gland",
    "the splenic vein",  # shares its label with the portal vein
    "patella",  # not the glued label name "PatellarCartilage"
    "brain",  # not a form of the compound "brainstem"
    "the spine",  # a word of general anatomy is no slip of "spinae" ("left erector spinae")
    "the largest rib",
])
def test_one_of_several_or_a_part_of_a_label_is_refused(text):
    with pytest.raises(PromptError):
        parse(text, _ontology(TOTAL))


LESIONS = {"liver": 1, "liver_tumor": 2, "kidney_left": 3, "kidney_right": 4, "kidney_tumor": 5, "femur_left": 6,
           "femur_right": 7, "hip_left": 8, "hip_right": 9, "Lens_L": 10, "Lens_R": 11, "hepatic_artery": 12}


@pytest.mark.parametrize("text,target,avoid", [
    ("the liver without the tumor", {1}, {2}),  # of two tumours, the one named with the liver
    ("kidneys plus tumour", {3, 4, 5}, set()),
    ("both femora", {6, 7}, set()),  # plurals no "-s" rule makes
    ("the lenses", {10, 11}, set()),
    ("R lens", {11}, set()),  # a capital side, though the label's own name says "Lens_R"
    ("all labelled bones except the femurs", None, None),  # "labelled bones" are bones: no census (the lenses)
    ("all bones", None, None),  # which labels are bones: only "hip bone", a synonym, says so
    ("the arteries", None, None),  # one label is named an artery ("hepatic_artery"): the others may be too
    ("the tumor", None, None),  # one of two
])
def test_a_collective_is_read_with_what_the_prompt_names_beside_it_and_never_from_a_partial_census(
    text, target, avoid
):
    assert _read(text, _ontology(LESIONS)) == (None if target is None else (target, avoid)), text


BRAIN = {"Left-Caudate": 1, "Right-Caudate": 2, "L_Puta": 3, "R_Puta": 4, "L_Pall": 5, "R_Pall": 6, "L_Thal": 7,
         "R_Thal": 8, "Cerebellum_L": 9, "Cerebellum_R": 10}
KNEE = {"femur": 1, "tibia": 2, "fibula": 3, "patella": 4}
NECK = {"common_carotid_artery_left": 1, "common_carotid_artery_right": 2, "internal_jugular_vein_left": 3,
        "internal_jugular_vein_right": 4, "thyroid_gland": 5, "renal_artery_left": 6, "renal_vein_left": 7}
SPINE = {"T11": 1, "T12": 2, "L1": 3, "L2": 4, "L3": 5, "disc_T12_L1": 6, "disc_L1_L2": 7, "sacrum": 8}
PELVIS = {"FemurHead_L": 1, "FemurHead_R": 2, "Bladder": 3, "nodule_solid": 4, "nodule_part_solid": 5, "spleen": 6,
          "kidney_left": 7, "vastus_intermedius": 8, "rectus_femoris": 9}

OARS = {"Glnd_Submand_L": 1, "Glnd_Submand_R": 2, "A_Carotid_L": 3, "A_Carotid_R": 4, "Cavity_Oral": 5, "LHV": 6,
        "MHV": 7, "RHV": 8, "Tibia_L": 9, "Fibula_L": 10, "Gastroc_Med_L": 11, "Gastroc_Lat_L": 12, "eCSF": 13,
        "LPV": 14}

DUCTS = {"Pancreas": 1, "Pancreatic_Duct": 2, "CBD": 3, "TibCart": 4, "FemCart": 5, "Femur": 6, "Tibia": 7}
RECTUM = {"mesorectal_LN": 1, "lateral_LN_left": 2, "lateral_LN_right": 3, "thyroid_lobe_left": 4,
          "thyroid_lobe_right": 5, "isthmus": 6, "Kidney_L": 7, "Kidney_R": 8, "Ureter_L": 9, "mesorectum": 10}
HEART = {"LA": 1, "LAA": 2, "LSPV": 3, "LIPV": 4, "RSPV": 5, "RIPV": 6, "SeminalVesicle_L": 7, "SeminalVesicle_R": 8,
         "GreatVes": 9}


TEETH = {"tooth_31": 1, "tooth_36": 2, "tooth_37": 3, "tooth_46": 4, "tooth_47": 5}
NAMED_TEETH = {"Upper Right Central Incisor": 1, "Upper Left Central Incisor": 2, "Lower Left Central Incisor": 3}
ASPECTS = {"lt_M1": 1, "lt_M2": 2, "lt_M3": 3, "lt_M4": 4, "rt_lentiform": 5, "lt_lentiform": 6}
NODES = {"LN_IB_L": 1, "LN_II_R": 2, "LN_VI": 3}
STATIONS = {"Station4R": 1, "Station4L": 2, "Station7": 3}
KITS = {"kidney": 1, "tumor": 2}
UTERUS = {"endometrium": 1, "junctional_zone": 2, "outer_myometrium": 3, "tumor": 4, "ovary_left": 5}
GLIOMA = {"ET": 1, "NETC": 2, "SNFH": 3, "RC": 4}
LOBES = {"RUL": 1, "RML": 2, "RLL": 3, "LUL": 4, "LLL": 5}
BRAIN_LOBES = {"frontal_lobe_left": 1, "frontal_lobe_right": 2, "parietal_lobe_left": 3}
EYES = {"MR_L": 1, "MR_R": 2, "LR_L": 3, "LR_R": 4, "OpticNerve_L": 5}
TRAUMA = {"liver": 1, "liver_laceration": 2, "spleen": 3, "splenic_laceration": 4}
HAND = {"MC1": 1, "MC2": 2, "MC3": 3, "PP1": 6, "PP3": 7, "MP3": 8, "DP1": 9, "DP3": 10}
SKULL = {"FrontalBone": 1, "ParietalBone_L": 2, "OccipitalBone": 3, "NasalBones": 4}
NEONATE = {"WM": 1, "ventricles": 2, "extracerebral_CSF": 3, "hippocampus_amygdala_R": 4}
RT_OARS = {"Brainstem": 1, "SpinalCord": 2, "Mandible": 3}
MS = {"WM": 1, "lesion_periventricular": 2, "lesion_juxtacortical": 3, "cord_lesion": 4, "spinal_cord": 5}
LEGS = {"cfa_right": 1, "sfa_right": 2, "pfa_right": 3, "sfa_left": 4, "stent": 5}
THYROID = {"thyroid_R": 1, "thyroid_L": 2, "isthmus": 3, "nodule_1": 4, "nodule_2": 5, "CCA_R": 6, "CCA_L": 7,
           "IJV_R": 8, "IJV_L": 9, "trachea": 10}
COLON = {"cecum": 1, "colon_ascending": 2, "colon_transverse": 3, "colon_descending": 4, "sigmoid": 5, "rectum": 6}
FOSSA = {"cerebellum_L": 1, "cerebellum_R": 2, "vermis": 3, "V4": 4, "tumor_solid": 5, "tumor_cyst": 6,
         "peritumoral_edema": 7}
HIP = {"femoral_head_left": 1, "acetabulum_left": 2, "labrum_left": 3, "gluteus_medius_left": 4, "iliopsoas_left": 5,
       "gluteus_medius_right": 6, "iliopsoas_right": 7}
WRIST = {"Radius_dist": 1, "Ulna_dist": 2, "Scaphoid": 3, "Lunate": 4, "Triquetrum": 5, "Capitate": 6, "Hamate": 7,
         "MedianNerve": 8, "Ganglion": 9}
CORONARY = {"LM": 1, "LAD": 2, "LCx": 3, "RCA": 4, "plaque_calc": 5, "plaque_noncalc": 6, "LV_myo": 7}
CMR = {"LV_bloodpool": 1, "LV_myo": 2, "RV_bloodpool": 3, "RV_myo": 4}
SPINE_ROOTS = {"L5": 1, "S1": 2, "thecal_sac": 3, "root_L5_left": 4, "root_L5_right": 5}
PE = {"PA_main": 1, "PA_left": 2, "PA_right": 3, "embolus": 4, "RV": 5}
LIVER_VEINS = {"liver": 1, "hepatic_vein_R": 2, "hepatic_vein_M": 3, "hepatic_vein_L": 4, "IVC": 5}
EAR = {"cochlea_L": 1, "cochlea_R": 2, "vestibule_L": 3, "vestibule_R": 4, "SCC_L": 5, "SCC_R": 6, "IAC_L": 7,
       "IAC_R": 8}
SINUS = {"maxillary_sinus_L": 1, "maxillary_sinus_R": 2, "frontal_sinus": 3, "ethmoid_L": 4, "ethmoid_R": 5}
DONOR = {"renal_artery_L_main": 1, "renal_artery_L_accessory": 2, "renal_artery_R": 3, "renal_vein_L": 4,
         "renal_vein_R": 5, "gonadal_vein_L": 6}
LUNG = {"lung_RUL": 1, "lung_RML": 2, "lung_RLL": 3, "lung_LUL": 4, "lung_LLL": 5, "honeycombing": 6, "reticulation": 7}
VENTRICLES = {"lat_vent_L": 1, "lat_vent_R": 2, "third_ventricle": 3, "fourth_ventricle": 4, "aqueduct": 5, "CSF": 6}
CORD = {"cord_GM": 1, "cord_WM": 2, "cord_lesion": 3, "CSF": 4, "C1": 5, "C2": 6}
VALVE = {"leaflet_NCC": 1, "leaflet_RCC": 2, "leaflet_LCC": 3, "aortic_root": 4, "LCA_ostium": 5, "RCA_ostium": 6}
VEINS = {"portal_vein": 1, "splenic_vein": 2, "SMV": 3, "esophageal_varices": 4, "spleen": 5}
HIPPOCAMPUS = {"CA1_L": 1, "CA23_L": 2, "DG_L": 3, "CA1_R": 4, "DG_R": 5, "subiculum_R": 6}
FOOT = {"cuneiform_med": 1, "cuneiform_lat": 2, "cuneiform_int": 3, "navicular": 4, "MT2": 5, "MT3": 6, "MT4": 7}


@pytest.mark.parametrize("labels,text,target,avoid", [
    (BRAIN, "the basal ganglia", {1, 2, 3, 4, 5, 6}, set()),  # a group of general anatomy: its labelled members
    (BRAIN, "right-sided basal ganglia except the caudate", {2, 4, 6}, {2}),
    (BRAIN, "left lentiform nucleus", {3, 5}, set()),
    (BRAIN, "left thalamus", {7}, set()),  # `L_Thal`: a label's abbreviation written out
    (BRAIN, "GP right", {6}, set()),  # a synonym of the written-out name, its side said after it
    (BRAIN, "the cerebellum", {9, 10}, set()),  # the halves of an unpaired structure
    (BRAIN, "all left-sided structures", {1, 3, 5, 7, 9}, set()),
    (KNEE, "all bones except the patella", {1, 2, 3, 4}, {4}),  # a kind, where every label's kind is known
    (KNEE, "lower leg bones", {2, 3}, set()),
    (NECK, "right common carotid artery", {2}, set()),  # `common_carotid_artery_right` said side first
    (NECK, "left CCA", {1}, set()),  # by its initials
    (NECK, "both internal jugular veins", {3, 4}, set()),
    (NECK, "left-sided vessels", {1, 3, 6, 7}, set()),
    (NECK, "the renal vessels", {6, 7}, set()),  # a kind of some words
    (SPINE, "T11 through L2", {1, 2, 3, 4}, set()),  # a range across regions of the spine
    (SPINE, "the first lumbar vertebra", {3}, set()),  # a label named by its level alone
    (SPINE, "the T12-L1 disc", {6}, set()),  # two adjacent levels beside "disc": the disc between them
    (SPINE, "lumbar spine without L3", {3, 4, 5}, {5}),
    (PELVIS, "both femoral heads", {1, 2}, set()),
    (PELVIS, "solid nodules", {4}, set()),  # the label named so, not the one that holds more
    (PELVIS, "vastus intermedius muscle", {8}, set()),  # a structure said with its kind
    (OARS, "left submandibular gland", {1}, set()),  # TG-263's `Glnd_Submand_L`: its class last, written out
    (OARS, "right carotid artery", {4}, set()),  # `A_Carotid_R`
    (OARS, "oral cavity", {5}, set()),
    (OARS, "left and middle hepatic veins", {6, 7}, set()),  # the last item's two words carried, not "left veins"
    (OARS, "the hepatic veins", {6, 7, 8}, set()),
    (OARS, "tibia and fibula, lt", {9, 10}, set()),  # a side said after a list, of each item
    (OARS, "left gastrocnemius", {11, 12}, set()),  # the heads it is made of (`Gastroc_Med_L`, `Gastroc_Lat_L`)
    (OARS, "eCSF", {13}, set()),
    (HEART, "left superior pulmonary vein", {3}, set()),  # `LSPV`: by side and where
    (HEART, "the pulmonary veins except the right ones", {3, 4, 5, 6}, {5, 6}),
    (HEART, "left atrium with its appendage and all pulmonary veins", {1, 2, 3, 4, 5, 6}, set()),  # "all": no side
    (HEART, "the SVs", {7, 8}, set()),  # an acronym's plural
    (HEART, "great vessels", {9}, set()),  # `GreatVes`: an abbreviation written out to the name it makes
    (SPINE, "all discs except the T12-L1 disc", {6, 7}, {6}),
    (RECTUM, "lymph nodes except the mesorectal ones", {1, 2, 3}, {1}),  # "ones": the target's noun
    (RECTUM, "whole thyroid", {4, 5, 6}, set()),  # its lobes and the isthmus
    ({"Kidney_L": 1, "Kidney_R": 2, "Ureter_L": 3, "Adrenal_L": 4}, "all left-sided organs", {1, 3, 4}, set()),
    ({"IPH": 1, "SDH": 2, "EDH": 3}, "extra-axial hemorrhages", {2, 3}, set()),
    (DUCTS, "pancreatic and bile ducts", {2, 3}, set()),  # a noun said once for two items
    (DUCTS, "please segment the cartilage of the tibia and femur", {4, 5}, set()),  # not the femur itself
    (BRAIN, "thalamus and putamen, bilateral", {3, 4, 7, 8}, set()),  # a list said of both sides
    (TEETH, "lower left first molar", {2}, set()),  # `tooth_36` by its name
    (TEETH, "LR6", {4}, set()),  # by Palmer's quadrant letters
    (TEETH, "the first molars", {2, 4}, set()),  # an ordinal a wording says is no selector
    (TEETH, "lower teeth except the molars", {1, 2, 3, 4, 5}, {2, 3, 4, 5}),
    (NAMED_TEETH, "teeth 11 and 21", {1, 2}, set()),  # names by FDI number
    (NAMED_TEETH, "tooth 31 (FDI)", {3}, set()),  # a numbering said beside the number
    (LEGS, "right common, superficial and deep femoral arteries", {1, 2, 3}, set()),  # the side of each item
    (LEGS, "the left SFA", {4}, set()),
    (NODES, "left level IB", {1}, set()),  # `LN_IB_L` by code, with the level's number as written or in Arabic
    (NODES, "level 2 right", {2}, set()),
    (NODES, "upper jugular nodes on the right", {2}, set()),  # by the consensus level's name
    (NODES, "all nodal levels except VI", {1, 2, 3}, {3}),
    (STATIONS, "4R", {1}, set()),  # `Station4R` by code and by IASLC name
    (STATIONS, "left lower paratracheal station", {2}, set()),
    (STATIONS, "subcarinal nodes", {3}, set()),
    (STATIONS, "the lower paratracheal stations", {1, 2}, set()),
    (LEGS, "all arteries except the left SFA", {1, 2, 3, 4}, {4}),  # a stent is known to be no artery
    (ASPECTS, "left M1-M3", {1, 2, 3}, set()),  # a range of one-letter codes
    (ASPECTS, "right lentiform nucleus", {5}, set()),  # a class noun the label's name leaves out
    ({"NodalMet": 1, "BoneMet": 2, "VisceralMet": 3}, "all metastases", {1, 2, 3}, set()),  # `Met` written out
    ({"NodalMet": 1, "BoneMet": 2}, "LN mets", {1}, set()),
    ({"FetalBrain": 1, "FetalHeart": 2, "Placenta": 3, "MaternalBladder": 4}, "all fetal organs", {1, 2}, set()),
    (KITS, "renal tumour", {2}, set()),  # a one-organ dataset's finding said with its organ
    (KITS, "please segment the kidney tumor", {2}, set()),
    (KITS, "the tumour in the kidney", {2}, set()),
    (KITS, "kidney + tumor", {1, 2}, set()),  # still a list, not "kidney tumor"
    (KITS, "kidney, tumor", {1, 2}, set()),
    ({"liver": 1, "lesion": 2, "hepatic_vessels": 3}, "lesions of the liver", {2}, set()),  # its vessels in it
    ({"pancreas": 1, "cyst": 2, "main_duct": 3}, "pancreatic cyst", {2}, set()),  # its duct, by its synonym
    (UTERUS, "JZ", {2}, set()),  # a name of two words by its initials
    (UTERUS, "endometrium and JZ without the tumour", {1, 2}, {4}),
    ({"Lung_L": 1, "Lung_R": 2, "Trachea": 3}, "lugns and tracha", {1, 2, 3}, set()),  # a plural's slip
    ({"axillary_vein": 1, "basilic_vein": 2}, "axilary vien", {1}, set()),  # two letters swapped in a short word
    ({"left_lung": 1, "right_lung": 2}, "lft lung", {1}, set()),
    ({"cGM": 1, "dGM": 2, "WM": 3}, "grey matter", {1, 2}, set()),  # cortical and deep: both
    ({"cGM": 1, "dGM": 2, "WM": 3}, "the cortex", {1}, set()),
    ({"VocalCordLeft": 1, "VocalCordRight": 2}, "both vocal folds", {1, 2}, set()),
    (RT_OARS, "all OARs except the mandible", {1, 2, 3}, {3}),  # each label of an OAR set is one
    (RT_OARS, "all organs at risk", {1, 2, 3}, set()),
    (RT_OARS | {"GTVp": 4, "GTVn_L": 5, "Parotid_L": 6}, "all OARs", {1, 2, 3, 6}, set()),  # a target is no OAR
    (RT_OARS | {"GTVn_L": 5, "Parotid_L": 6}, "left-sided OARs", {6}, set()),
    (GLIOMA | {"Brainstem": 5}, "all OARs", {5}, set()),  # nor the tumour's parts or the resection cavity
    ({"Seg1": 1, "Seg4a": 2, "Seg4b": 3, "Seg5": 4, "Seg6": 5}, "segment IVa", {2}, set()),  # glued to its number
    ({"Seg1": 1, "Seg4a": 2, "Seg4b": 3, "Seg5": 4, "Seg6": 5}, "segments 5 to 6", {4, 5}, set()),
    ({"patella": 1, "quadriceps_tendon": 2, "patellar_tendon": 3}, "patella with both its tendons", {1, 2, 3}, set()),
    (MS, "normal-appearing white matter", {1}, {2, 3, 4}),  # white matter without its lesions
    (MS, "lesions", {2, 3, 4}, set()),  # each lesion, not the cord's alone by a bare synonym
    (MS, "the spinal cord with its lesions", {4, 5}, set()),  # the cord's own
    (LOBES, "right middle and lower lobes", {2, 3}, set()),  # the side said first, of each item
    (LOBES, "Could you please outline the patient's right middle and lower lobes?", {2, 3}, set()),
    (EYES, "all extraocular muscles of the right eye", {2, 4}, set()),  # a side said of what holds them
    (EYES, "both medial recti", {1, 2}, set()),
    (EYES, "optic nerve of the left eye", {5}, set()),
    ({"femur_left": 1, "femur_right": 2}, "femur of right side please", {2}, set()),
    (TRAUMA, "spleen together with its laceration", {3, 4}, set()),  # "splenic" is the spleen's
    (TRAUMA, "liver lac", {2}, set()),
    (HAND, "thumb phalanges", {6, 9}, set()),  # by digit (`digits.py`)
    (HAND, "middle finger bones", {3, 7, 8, 10}, set()),  # the long finger's, not the middle phalanges
    (HAND, "middle phalanges", {8}, set()),
    (HAND, "distal phalanges 1 and 3", {9, 10}, set()),  # "distal" said of each number, not "phalanx 3"
    (HAND, "all metacarpals except the first", {1, 2, 3}, {1}),
    (SKULL, "os frontale", {1}, set()),  # Latin names in the labels' words
    (SKULL, "ossa nasalia", {4}, set()),
    (SKULL, "calvarium", {1, 2, 3}, set()),
    ({"rectus_abdominis_left": 1, "rectus_abdominis_right": 2}, "Musculus rectus abdominis sinister", {1}, set()),
    (NEONATE, "CSF spaces", {2, 3}, set()),
    ({"pancreas": 1, "PDAC": 2, "SMV": 3}, "pancreas without the tumour", {1}, {2}),
    (THYROID, "whole thyroid", {1, 2, 3}, set()),  # the lobes by their side and the isthmus (a group)
    (THYROID, "right lobe of the thyroid", {1}, set()),  # an unpaired organ's half by its side
    (THYROID, "both thyroid lobes", {1, 2}, set()),
    (THYROID, "the thyroid's isthmus", {3}, set()),  # a group's member said with it
    (THYROID, "please segment the first nodule and the left lobe", {4, 2}, set()),  # a numbered label by ordinal
    (THYROID, "arteria carotis communis sinistra", {7}, set()),  # Latin word by word, its side first
    (THYROID, "all vessels excluding the jugular veins", {6, 7, 8, 9}, {8, 9}),
    (COLON, "cecum through descending colon", {1, 2, 3, 4}, set()),  # a span of a series
    (COLON, "the colon from the transverse to the rectum", {3, 4, 5, 6}, set()),
    (FOSSA, "whole cerebellum", {1, 2, 3}, set()),  # the hemispheres and the vermis
    (FOSSA, "tumor and surrounding edema", {5, 6, 7}, set()),  # `tumor_cyst` is of the tumour
    (FOSSA, "fourth ventricle", {4}, set()),
    (FOSSA, "the tumour", {5, 6}, set()),
    ({"FemurDistal": 1, "BoneBruise": 2}, "all bones", {1}, set()),  # a bruise, no "bruise bone"
    (HIP, "all left-sided structures excluding the muscles", {1, 2, 3, 4, 5}, {4, 5, 6, 7}),  # every muscle
    (HIP, "both labra", {3}, set()),
    (WRIST, "labels 3 through 7", {3, 4, 5, 6, 7}, set()),  # a label by its number
    (WRIST, "os lunatum", {4}, set()),
    (WRIST, "n. medianus", {8}, set()),
    (WRIST, "both forearm bones", {1, 2}, set()),  # a bone's end is that bone in a group
    (WRIST, "all the bones excluding the distal radius and ulna", {1, 2, 3, 4, 5, 6, 7}, {1, 2}),
    (CORONARY, "calcified plaque", {5}, set()),
    (CORONARY, "all plaque", {5, 6}, set()),
    (CMR, "myocardium of both ventricles", {2, 4}, set()),  # `RV_myo` written out: "right ventricular myocardium"
    (SPINE_ROOTS, "both L5 nerve roots", {4, 5}, set()),  # `root_L5_left` is a nerve root
    ({"femur_distal": 1, "patella": 2, "patellar_tendon": 3}, "all bones except the femur", {1, 2}, {1}),
    ({"humeral_head": 1, "glenoid": 2, "clavicle_distal": 3}, "all bones but not the clavicle", {1, 2, 3}, {3}),
    ({"lung_left": 1, "ggo": 2}, "ground-glass opacities", {2}, set()),  # hyphen variants of one row kept
    ({"uterus": 1, "fibroid_1": 2, "fibroid_2": 3}, "leiomyomas", {2, 3}, set()),  # a numbered label's synonyms
    ({"placenta": 1, "placenta_accreta_region": 2}, "accreta area", {2}, set()),  # its organ and region unsaid
    ({"retromandibular_vein_R": 1, "parotid_R": 2}, "vena retromandibularis dextra", {1}, set()),  # by its ending
    ({"GTVnx": 1, "GTVnd_L": 2, "GTVnd_R": 3, "Brainstem": 4}, "all GTVs", {1, 2, 3}, set()),
    ({"humerus_distal": 1, "radial_head": 2, "UCL": 3, "CET": 4, "ulnar_nerve": 5}, "all the bony structures", {1, 2},
     set()),
    (PE, "RPA and LPA", {3, 2}, set()),  # a side glued to an acronym
    (PE, "pulmonary arteries without the emboli", {1, 2, 3}, {4}),  # `PA_main` is the main pulmonary artery
    ({"spleen": 1, "splenic_artery": 2, "splenic_vein": 3}, "splenic a.", {2}, set()),  # not the spleen
    ({"spleen": 1, "splenic_artery": 2, "splenic_vein": 3}, "splenic a. and v.", {2, 3}, set()),
    (FOOT, "MT2-MT4", {5, 6, 7}, set()),  # a range of two-letter codes
    (FOOT, "middle cuneiform", {3}, set()),  # `cuneiform_int`: intermediate, never "intestines"
    (FOOT, "tarsal bones", {1, 2, 3, 4}, set()),
    ({"cerebellum": 1, "brainstem": 2}, "the fetus's cerebellum", {1}, set()),
    (LIVER_VEINS, "all three hepatic veins", {2, 3, 4}, set()),  # `hepatic_vein_M`: the middle one
    (EAR, "right inner ear", {2, 4, 6}, set()),  # `SCC_R` a semicircular canal: the group whole
    (EAR, "meatus acusticus internus dexter", {8}, set()),
    (SINUS, "all paranasal sinuses", {1, 2, 3, 4, 5}, set()),  # `ethmoid_L`: an ethmoid sinus
    ({"BCT": 1, "LCCA": 2, "LSA": 3}, "innominate artery, left common carotid and left subclavian", {1, 2, 3}, set()),
    (DONOR, "all the renal arteries", {1, 2, 3}, set()),  # a main and an accessory artery are renal arteries
    (DONOR, "renal arteries and veins, both sides", {1, 2, 3, 4, 5}, set()),  # no gonadal vein
    (LUNG, "all five lobes", {1, 2, 3, 4, 5}, set()),  # a part noun alone: the parts so named, counted
    (BRAIN_LOBES, "all lobes", {1, 2, 3}, set()),  # the labelled ones
    (LUNG, "the fibrotic changes, reticulation plus honeycombing", {6, 7}, set()),  # a collective glossed
    (LUNG, "fibrotic changes (honeycombing and reticulation)", {6, 7}, set()),
    (VENTRICLES, "the left lateral ventricle but not the right", {1}, {2}),  # the other side's twin
    (VENTRICLES, "the entire ventricular system", {1, 2, 3, 4, 5}, set()),  # with the aqueduct
    (VENTRICLES, "4th vent", {4}, set()),  # shorthand the labels also write out
    (VENTRICLES, "ventriculus tertius", {3}, set()),
    (CORD, "spinal cord", {1, 2, 3}, set()),  # the tissues it is made of and what lies in it
    (CORD, "substantia grisea", {1}, set()),
    (CORD, "the axis", {6}, set()),
    ({"TI_wall": 1, "TI_lumen": 2, "fistula": 3}, "terminal ileum excluding its lumen", {1, 2}, {2}),
    ({"MCA_territory_L": 1, "MCA_territory_R": 2}, "right middle cerebral artery territory", {2}, set()),
    (VALVE, "all three leaflets", {1, 2, 3}, set()),  # `leaflet_NCC` is a leaflet
    (VALVE, "non-coronary cusp", {1}, set()),
    (VALVE, "both coronary ostia", {5, 6}, set()),
    ({"adenoma": 1, "normal_gland": 2, "stalk": 3, "sphenoid_sinus": 4}, "pituitary adenoma", {1}, set()),
    ({"crus_L": 1, "crus_R": 2, "kidney_L": 3}, "right crus of the diaphragm", {2}, set()),  # an organ unlabelled
    ({"Tumor": 1, "ThyroidCartilage": 2, "Epiglottis": 3}, "laryngeal carcinoma", {1}, set()),
    ({"skin": 1, "fat": 2, "rib": 3}, "cutis", {1}, set()),
    ({"Femoral_Head_R": 1, "Femoral_Head_L": 2}, "Femoral_Head_R", {1}, set()),  # the label's name as written
    ({"RAG": 1, "LAG": 2, "RK": 3}, "right suprarenal gland", {1}, set()),  # an acronym's synonyms by its side
    ({"anterior_leaflet": 1, "posterior_leaflet": 2, "LA": 3}, "only the anterior leaflet, not the posterior one", {1},
     {2}),  # the twin by its direction
    ({"anterior_leaflet": 1, "posterior_leaflet": 2, "mitral_annulus_calc": 3}, "both mitral leaflets", {1, 2}, set()),
    ({"ICA_L": 1, "ICA_R": 2, "ECA_L": 3, "ECA_R": 4}, "left and right ECAs plus the right ICA", {3, 4, 2}, set()),
    ({"aortic_root": 1, "ascending_aorta": 2, "aortic_arch": 3, "descending_aorta": 4}, "root to descending aorta",
     {1, 2, 3, 4}, set()),  # a series' member by a word no other member has
    ({"liver_right_lobe": 1, "liver_left_lobe": 2, "caudate_lobe": 3, "spleen": 4}, "all three liver lobes",
     {1, 2, 3}, set()),  # the caudate lobe is the liver's
    ({"CBD": 1, "stone_CBD": 2}, "common bile duct", {1}, set()),  # the stone's name says where it lies
    ({"facet_L4_L5_L": 1, "facet_L4_L5_R": 2, "L4": 3, "L5": 4}, "left facet L4-L5", {1}, set()),  # one level
    ({"root_C7_L": 1, "root_C8_L": 2}, "left seventh cervical nerve root", {1}, set()),
    ({"root_C5_L": 1, "schwannoma": 2}, "left C5 root, sparing the tumour", {1}, {2}),  # a tumour by its kind
    ({"ovarian_mass_solid": 1, "ovarian_mass_cystic": 2, "uterus": 3}, "the ovarian mass", {1, 2}, set()),
    ({"Lung_L": 1, "Lung_R": 2, "GTV": 3, "PTV": 4}, "Lungs-PTV", {1, 2}, {4}),  # TG-263's subtraction
    ({"Lung_L": 1, "Lung_R": 2, "GTV": 3, "PTV": 4}, "Lung_L-GTV", {1}, {3}),
    (VEINS, "portal, splenic and superior mesenteric veins", {1, 2, 3}, set()),  # the noun said once, last
    (VEINS, "varices of the oesophagus", {4}, set()),
    (HIPPOCAMPUS, "gyrus dentatus sinister", {3}, set()),  # Latin, its side after it
    (HIPPOCAMPUS, "subiculum dextrum", {6}, set()),
    (HIPPOCAMPUS, "both CA1", {1, 4}, set()),  # a code is a structure's name
    (HIPPOCAMPUS, "dentate gyri", {3, 5}, set()),
    ({"femur_L": 1, "pelvis": 3, "gluteus_medius_R": 4, "gluteus_medius_L": 5}, "left gluteus medius muscle", {5},
     set()),  # said with its kind
    ({"femur_L": 1, "femur_R": 2, "pelvis": 3}, "os femoris dextrum", {2}, set()),
    ({"femur_L": 1, "femur_R": 2, "pelvis": 3}, "bony pelvis", {3}, set()),  # a group labelled whole
    ({"breast": 1, "nipple": 2, "mass": 3, "axillary_LN": 4}, "for staging: the mass + ALN", {3, 4}, set()),
])
def test_general_anatomy_reads_groups_kinds_ranges_and_abbreviated_label_names(labels, text, target, avoid):
    assert _read(text, _ontology(labels)) == (None if target is None else (target, avoid)), text


@pytest.mark.parametrize("labels,text", [
    (KNEE | {"osteophyte": 5}, "all bones"),  # a label of unknown kind: no census of the bones
    (PELVIS, "left-sided organs"),  # the spleen is on the left, though its name does not say so
    (PELVIS, "the left femur"),  # only its head is labelled
    (PELVIS, "the organ"),  # one of a kind
    (SPINE, "the lumbar vertebra"),  # one of several
    (OARS, "the hepatic vein"),  # one of the three a group in the plural names
    (SPINE, "all discs except T12-L1"),  # beside "discs" two adjacent levels are a disc, never T12 and L1
    (RECTUM, "all left-sided organs"),  # lymph nodes and the mesorectum: no census of the organs
    ({"teres_minor": 1, "teres_zz": 2}, "teres muscles"),  # a "teres" of unknown kind: no census of them
    ({"Cerebellum_L": 1, "Cerebellum_R": 2}, "the cerebrum"),  # no form of "cerebellum"
    ({"caudate": 1, "thalamus": 2}, "the basal ganglia"),  # one member is not the group
    (NAMED_TEETH | {"Implant": 4}, "all the teeth"),  # an implant of unknown kind: no census of the teeth
    (LEGS, "the SFA"),  # one of two
    (STATIONS, "lower paratracheal station"),  # one of two
    (NODES, "level III"),  # not labelled
    (STATIONS | {"Station6": 4}, "aorta"),  # the para-aortic station is no aorta
    ({"UmbilicalCord": 1, "Placenta": 2}, "spinal cord"),  # "cord" of the umbilical cord is no spinal cord
    ({"Bladder": 1, "Puborectalis": 2, "PubicSymphysis": 3}, "every muscle label"),  # a kind, not every label
    (TEETH, "the bigger molar"),
    ({"psoas_left": 1, "psoas_right": 2}, "the psoas muscle"),  # one muscle, not a plural
    (KITS | {"liver": 3}, "renal tumour"),  # two organs: which one the tumour is in, the labels do not say
    (KITS, "liver tumour"),  # an organ the dataset is not about
    ({"kidney_left": 1, "ureter_left": 2, "Tumor": 3}, "renal tumour"),
    (MS, "the lesion"),  # one of several
    ({"Seg8": 1, "HCC": 2}, "the HCC in segment 8"),  # kept apart by the labels: no part of segment 8
    (NEONATE, "CSF"),  # more than the extracerebral CSF: the ventricles hold CSF too
    (NEONATE, "amygdala on the right"),  # a label named by two structures holds more than one of them
    (TRAUMA, "both lacerations (liver and spleen)"),  # the brackets name other labels than the words before them
    (HAND, "third metacarpal"),  # "third" names a part ("the upper third"): refused, never a guess
    (GLIOMA, "tumor core"),  # the non-enhancing core is no tumour core, nor the enhancing tumour alone
    (GLIOMA, "the tumour"),
    (GLIOMA, "whole tumour"),
    ({"Tumor": 1, "Kidney": 2, "Liver": 3}, "the largest organ"),  # no slip to "larges"
    (CORONARY, "left coronary artery"),  # more than the left main: its trunk
    (SPINE_ROOTS, "sacrum"),  # `thecal_sac`: "sac" is a word, no abbreviation of "sacrum"
    (CMR, "myocardium"),  # of both ventricles: one of two
    (CMR, "heart muscle of the right ventricle and the LV"),  # no reading of a list item's words alone
    (WRIST, "all eight carpal bones"),  # five are labelled
    ({"cortical_plate": 1, "subplate": 2}, "CP"),  # the choroid plexus' initials too
    (PE, "the pulmonary artery"),  # the main one or a branch
    (SINUS, "all left-sided sinuses"),  # the frontal sinus is labelled whole: which half, the labels do not say
    ({"ilium": 1, "acetabular_roof": 2, "labrum": 3}, "acetabulum"),  # the roof is a part of it
    ({"LA": 1, "LAA": 2, "LV_myo": 3}, "appendix"),  # no form of "appendage"
    (LUNG, "all four lobes"),  # five are so named
    (BRAIN_LOBES, "all four lobes of the left hemisphere"),  # two are labelled
    ({"liver_left_lobe": 1, "stomach_wall": 2}, "whole liver"),  # one lobe is no liver
    ({"kidney_R": 1, "ureter_R": 2, "calculus_R": 3}, "right stones, renal and ureteral"),  # no kidney, no ureter
    ({"ethmoid_L": 1, "frontal_sinus": 2}, "ethmoid sinuses"),  # no census of the sinuses: it tells them apart
    ({"polyp": 1, "maxillary_sinus_L": 2}, "polyp in the left maxillary sinus"),  # the side is the polyp's
    (MS, "the brain"),  # no label is the brain
    ({"cord_lesion": 1, "WM": 2}, "the spinal cord"),  # what lies in it, but nothing it is made of
    ({"LV_wall": 1, "LV_cavity": 2, "scar": 3}, "right ventricle"),  # one tissue is no whole
    (KITS, "hepatic tumour"),  # a finding in an organ other than the one labelled
    ({"Station4R": 1, "Station4L": 2, "Station7": 3}, "EBUS targets 4R, 4L and 7"),  # the list begun before the gloss
    ({"adrenal_L": 1, "kidney_L": 2, "kidney_R": 3}, "both adrenals"),  # one side labelled
    ({"adrenal_L": 1, "kidney_L": 2, "kidney_R": 3}, "the adrenal glands"),
    ({"Musc_Constrict_S": 1, "Musc_Constrict_I": 2}, "pharyngeal constrictor muscles"),  # `_I` is one of them
    ({"uterus": 1, "endometrioma_L": 2}, "endometrium"),  # a tumour's name is no misspelling of its tissue
    ({"tumor": 1, "tumor_necrosis": 2, "edema": 3}, "tumour, necrosis and oedema"),  # never `tumor_necrosis` alone
    ({"hard_exudates": 1, "drusen": 2, "optic_disc": 3}, "all exudates"),  # only one kind labelled
    ({"lung_R": 1, "lung_L": 2, "tumor_RUL": 3}, "right upper lobe"),  # the site of a finding is not the finding
])
def test_a_group_kind_or_whole_the_labels_do_not_hold_is_refused(labels, text):
    assert _read(text, _ontology(labels)) is None, text


def test_acronym_labels_are_read_by_the_structure_and_side_they_abbreviate():
    flare = _ontology({"RK": 1, "LK": 2, "RAG": 3, "LAG": 4, "RCA": 5})
    assert _read("right kidney", flare) == ({1}, set())
    assert _read("the adrenals except the left one", flare) == ({3, 4}, {4})
    assert _read("right carotid artery", flare) is None  # `RCA` is not read as any structure it could abbreviate


def test_a_synonym_two_labels_share_is_dropped_and_every_wording_names_one_structure():
    labels = DatasetLabels.of({"background": 0, "IVC": 1, "postcava": 2, "liver": 3})
    ontology = generic_ontology(labels)
    for s in ontology.structures.values():
        for phrase in s.phrases():
            assert ontology.lookup(phrase) == {s.name}, phrase
    assert "synonyms" not in generic_structures(labels)["IVC"]  # "inferior vena cava" would name both


def test_totalsegmentator_ct_as_a_users_dataset_is_prompted_by_its_groups(nnunet_env, capsys):
    """The real TotalSegmentator CT example (41 labels present, 13 of the task's absent; model-made labels, for the
    pipeline only) as a user's nnU-Net dataset, ids made consecutive as nnU-Net needs: converted without an
    ontology, its prompts are read by the groups its label names form, and an absent label's prompts are empty."""
    import SimpleITK as sitk
    from conftest import DATA
    from helpers import snapshot

    from nnunet_semantic.cli import main
    from nnunet_semantic.prompts.ontology import Ontology
    from nnunet_semantic.prompts.sidecar import ABSENT, read_sidecar_folder

    source = DATA / "totalsegmentator_examples"
    if not source.is_dir():
        pytest.skip(f"{source} is not here")
    entry = json.loads((source / "labels.json").read_text())["example_seg.nii.gz"]
    names = {int(i): n for i, n in (entry["label_names"] | entry["absent_examples"]).items()}
    ids = {old: new for new, old in enumerate(sorted(names), 1)}
    folder = nnunet_env / "user" / "Dataset500_TotalCT"
    (folder / "imagesTr").mkdir(parents=True), (folder / "labelsTr").mkdir()
    sitk.WriteImage(sitk.ReadImage(str(source / "example_ct_sm.nii.gz")), str(folder / "imagesTr" / "ct_0000.nii.gz"))
    seg = sitk.ReadImage(str(source / "example_seg.nii.gz"))
    table = np.zeros(max(names) + 1, np.uint8)
    table[list(ids)] = list(ids.values())
    remapped = sitk.GetImageFromArray(table[sitk.GetArrayFromImage(seg)])
    remapped.CopyInformation(seg)
    sitk.WriteImage(remapped, str(folder / "labelsTr" / "ct.nii.gz"))
    (folder / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "CT"}, "labels": {"background": 0, **{names[o]: n for o, n in ids.items()}},
        "numTraining": 1, "file_ending": ".nii.gz"}))
    before = snapshot(folder)
    assert main(["convert", "nnunet", "-i", str(folder), "-d", "612", "-np", "1"]) == 0
    assert snapshot(folder) == before
    out = nnunet_env / "nnUNet_raw" / "Dataset612_TotalCT"
    ontology = Ontology.of_dataset(out)

    def read(text):
        p = parse(text, ontology)
        return {names[o] for o, n in ids.items() if n in set(p.target) - set(p.avoid)}

    assert read("the kidneys") == {"kidney_left", "kidney_right"}
    assert read("left lung without the lower lobe") == {"lung_upper_lobe_left"}
    assert read("the lower lobes") == {"lung_lower_lobe_left", "lung_lower_lobe_right"}
    assert read("both 12th ribs") == {"rib_left_12", "rib_right_12"}
    assert read("IVC") == {"inferior_vena_cava"} and read("L1") == {"vertebrae_L1"}
    for text in ("the kidney", "the splenic vein"):
        with pytest.raises(PromptError):
            parse(text, ontology)
    # every label's kind known (a kidney cyst and the costal cartilages by their last word): a census of the bones
    assert read("all bones") == {n for n in names.values() if n.startswith(("rib_", "vertebrae_", "sacrum"))}
    prompts = read_sidecar_folder(out / "prompts")["ct"]
    cyst = ids[next(o for o, n in names.items() if n == "kidney_cyst_left")]
    assert any(p.target == (cyst,) and p.level == ABSENT for p in prompts)  # an absent label: an empty mask
    assert {p.level for p in prompts} >= {1, 2}  # L2 from the synonyms of general anatomy ("IVC", "LUL")
