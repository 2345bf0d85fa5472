"""A dataset's label names as the words people prompt with: `kidney_left` is "kidney left", `Femoral_Head_L`
"femoral head left"; `prostate/uterus` is either organ, `Prostate_PZ` also "peripheral zone", `postcava` also
"inferior vena cava" and "IVC". A user's own dataset has no ontology (one structure per label): these are its only
wordings besides the names."""

from __future__ import annotations

import re

from nnunet_semantic.prompts.anatomy import ANATOMY, FINDINGS, GROUPS, HALVES, KINDS, OF_ORGAN
from nnunet_semantic.prompts.directions import SIDES
from nnunet_semantic.prompts.ontologies import digits, nodes, teeth
from nnunet_semantic.prompts.ontologies.context import FINDING_NOUNS, TISSUES
from nnunet_semantic.prompts.ontology import normalize, singular
from nnunet_semantic.prompts.wording import RELATIONAL, SHORTHAND

# words one structure goes by across datasets and clinics: each group is one structure, abbreviations included; no
# lay term headed by a class noun ("thigh bone"): "all bones" would read as the few structures that have one; a
# kind's word in a wording of at most three words ("LAD coronary artery"), or "the coronary arteries" misses it
SYNONYMS = (
    ("inferior vena cava", "IVC", "postcava"),
    ("superior vena cava", "SVC"),
    ("gallbladder", "gall bladder", "GB", "gall"),
    ("urinary bladder", "bladder", "vesica urinaria", "urine bladder"),
    ("esophagus", "oesophagus", "eso", "gullet", "food pipe"),
    ("ascending aorta", "aorta ascending"),
    ("aortic arch", "arch of the aorta", "aorta arch"),
    ("descending aorta", "aorta descending", "descending thoracic aorta"),
    ("prostate", "prostate gland"),
    ("stomach", "sto"),
    ("kidney", "kid"),
    ("spleen", "lien"),
    ("liver", "hepar"),
    ("adrenal gland", "adrenal", "suprarenal gland"),
    ("colon", "large bowel", "large intestine"),
    ("brainstem", "brain stem"),
    ("intervertebral disc", "IV disc", "IVD"),
    ("autochthon", "autochthonous back muscle", "erector spinae", "paraspinal muscle"),
    ("iliopsoas", "iliopsoas muscle"),
    ("right ventricle", "RV"),
    ("left ventricle", "LV"),
    ("right atrium", "RA", "right atrial cavity", "RA cavity", "RA blood pool"),
    ("left atrium", "LA", "left atrial cavity", "LA cavity", "LA blood pool"),
    ("left ventricular cavity", "LV cavity", "LVC", "left ventricular blood pool", "LV blood pool"),
    ("right ventricular cavity", "RV cavity", "RVC", "right ventricular blood pool", "RV blood pool"),
    ("left ventricular myocardium", "LV myocardium", "myocardium", "MYO", "MLV", "heart muscle"),
    ("right ventricular myocardium", "RV myocardium", "RV wall", "right ventricular wall"),
    ("peripheral zone", "PZ"),
    ("transition zone", "TZ"),
    ("central zone", "CZ"),
    ("seminal vesicle", "SV"),
    ("whole tumor", "WT"),
    ("tumor core", "TC"),
    ("enhancing tumor", "ET", "contrast enhancing tumor"),
    ("non enhancing tumor", "NET"),
    ("edema", "peritumoral edema", "ED", "surrounding edema", "perilesional edema", "vasogenic edema"),
    ("non enhancing tumor core", "NETC", "non enhancing core"),  # BraTS 2023's names
    ("surrounding non enhancing FLAIR hyperintensity", "SNFH", "FLAIR hyperintensity"),
    ("resection cavity", "RC", "surgical cavity", "postoperative cavity"),
    ("vocal cord", "vocal fold", "true vocal cord", "true vocal fold", "true cord"),
    ("piriform sinus", "pyriform sinus", "piriform fossa", "pyriform fossa", "piriform recess", "pyriform recess"),
    ("right upper lung lobe", "right upper lobe", "RUL"),
    ("right middle lung lobe", "right middle lobe", "RML"),
    ("right lower lung lobe", "right lower lobe", "RLL"),
    ("left upper lung lobe", "left upper lobe", "LUL"),
    ("left lower lung lobe", "left lower lobe", "LLL"),
    ("optic chiasm", "chiasm"),
    ("parotid gland", "parotid"),
    ("submandibular gland", "submandibular", "SMG"),
    ("mandible", "lower jaw", "lower jawbone", "lower jaw bone", "mandibula"),
    ("masseter", "masseter muscle", "musculus masseter"),
    ("temporalis", "temporalis muscle", "temporal muscle", "musculus temporalis"),
    ("medial pterygoid", "medial pterygoid muscle", "pterygoideus medialis", "MPM"),
    ("lateral pterygoid", "lateral pterygoid muscle", "pterygoideus lateralis", "LPM"),
    ("articular disc", "discus articularis", "TMJ disc", "TMJ articular disc", "temporomandibular joint disc"),
    ("maxilla", "upper jaw", "upper jawbone", "upper jaw bone"),
    ("maxillary sinus", "maxillary antrum", "antrum of Highmore"),
    ("inferior alveolar canal", "mandibular canal", "inferior alveolar nerve canal", "IAN canal"),
    ("trachea", "windpipe"),
    ("thyroid gland", "thyroid"),
    ("larynx", "voice box"),
    ("femur", "thighbone"),
    ("tibia", "shinbone"),
    ("spinal canal", "vertebral canal"),
    ("uterus", "womb"),
    ("clavicle", "collarbone"),
    ("scapula", "shoulder blade"),
    ("patella", "kneecap"),
    ("sigmoid colon", "sigmoid"),
    ("pulmonary artery", "PA", "pulmonary trunk", "main pulmonary artery"),
    ("choroid plexus", "CP"),
    ("semicircular canal", "SCC", "semicircular canals"),
    ("heart", "cor"),
    ("thymus", "thymic gland", "thymus gland"),
    ("flexor retinaculum", "transverse carpal ligament", "TCL"),
    ("mesorectal fascia", "MRF", "fascia propria recti"),
    ("EMVI", "extramural venous invasion", "extramural vascular invasion"),
    ("ossicles", "ossicular chain", "auditory ossicles"),
    ("facial canal", "fallopian canal", "facial nerve canal"),
    ("cerebrospinal fluid", "CSF"),
    ("extracerebral cerebrospinal fluid", "extracerebral CSF", "extra-axial CSF", "external CSF", "eCSF"),
    ("pancreatic ductal adenocarcinoma", "PDAC", "pancreatic cancer", "pancreatic adenocarcinoma", "pancreatic tumor"),
    ("zygoma", "zygomatic bone", "malar bone", "cheekbone"),
    ("external oblique", "EO", "external oblique muscle", "obliquus externus abdominis"),
    ("transversus abdominis", "TrA", "transverse abdominal muscle", "transversus"),
    ("external cerebrospinal fluid", "eCSF", "external CSF", "extra-axial CSF", "extra-axial cerebrospinal fluid"),
    ("white matter", "WM"),
    (
        "gray matter",
        "grey matter",
        "GM",
        "cortical gray matter",
        "cortical grey matter",
        "cortical GM",
        "cerebral cortex",
    ),
    ("deep gray matter", "deep grey matter", "dGM", "deep GM", "deep grey nuclei", "BGT"),
    (
        "cortical gray matter",
        "cortical grey matter",
        "cGM",
        "cortical GM",
        "cerebral cortex",
        "cortex",
        "cortical ribbon",
    ),
    ("hepatic vein", "HV"),
    ("middle hepatic vein", "MHV"),
    (
        "intraparenchymal hemorrhage",
        "IPH",
        "intracerebral hemorrhage",
        "intraparenchymal hematoma",
        "intraparenchymal bleed",
    ),
    ("intraventricular hemorrhage", "IVH"),
    ("subarachnoid hemorrhage", "SAH", "subarachnoid bleed"),
    ("subdural hematoma", "SDH", "subdural hemorrhage"),
    ("epidural hematoma", "EDH", "extradural hematoma", "epidural hemorrhage"),
    ("perihematomal edema", "PHE", "perihematomal oedema"),
    ("ground glass opacity", "GGO", "ground-glass opacity", "ground glass"),
    ("pleural effusion", "pleural fluid"),
    ("pulmonary vein",),
    ("left atrial appendage", "LAA", "left auricular appendage", "left auricle"),
    ("anterior fibromuscular stroma", "AFS", "fibromuscular stroma"),
    ("white matter hyperintensity", "WMH", "leukoaraiosis"),
    ("carpal bones", "carpals", "carpus", "wrist bones"),
    ("hyoid bone", "hyoid", "os hyoideum"),
    ("cricoid cartilage", "cricoid"),
    ("medial rectus", "MR", "medial rectus muscle", "rectus medialis"),  # extraocular muscles
    ("lateral rectus", "LR", "lateral rectus muscle", "rectus lateralis"),
    ("superior rectus", "SR", "superior rectus muscle", "rectus superior"),
    ("inferior rectus", "IR", "inferior rectus muscle", "rectus inferior"),
    ("superior oblique", "SO", "superior oblique muscle", "obliquus superior"),
    ("inferior oblique", "IO", "inferior oblique muscle", "obliquus inferior"),
    ("main bronchus", "mainstem bronchus", "main stem bronchus", "principal bronchus"),
    ("hemoperitoneum", "intraperitoneal hemorrhage", "intraperitoneal blood"),
    ("pneumoperitoneum", "free air", "free intraperitoneal air"),
    ("active extravasation", "contrast extravasation", "contrast blush", "active bleeding"),
    ("mitral valve", "bicuspid valve"),
    ("pericardial effusion", "pericardial fluid"),
    ("coccyx", "tailbone"),
    ("globe", "eyeball", "bulbus oculi"),
    ("arytenoid cartilage", "arytenoid"),
    ("epiglottis", "epiglottic cartilage"),
    ("junctional zone", "JZ", "inner myometrium"),
    ("endometrium", "endometrial lining", "endometrial stripe", "uterine lining"),
    ("outer myometrium", "outer myometrial layer"),
    ("chest wall", "thoracic wall"),
    ("proximal bronchial tree", "proximal bronchus", "PBT"),
    ("common bile duct", "CBD", "choledochus", "ductus choledochus"),
    ("common hepatic duct", "CHD"),
    ("right hepatic duct", "RHD"),
    ("left hepatic duct", "LHD"),
    ("lymph node metastasis", "nodal metastasis", "LN metastasis", "node metastasis"),
    ("distant metastasis", "distant metastases"),
    ("tibialis anterior", "TA", "anterior tibialis"),
    ("tumor", "lesion", "mass", "neoplasm", "cancer", "carcinoma"),
    ("main pancreatic duct", "main duct", "pancreatic duct", "MPD", "duct of Wirsung", "Wirsung duct"),
    ("pallidum", "globus pallidus", "GP"),
    ("caudate", "caudate nucleus"),
    ("accumbens area", "nucleus accumbens", "accumbens"),
    ("eyeball", "globe", "eye"),
    ("hip bone", "hip", "innominate bone", "hemipelvis", "os coxae"),
    ("femoral head", "head of femur"),
    ("necrosis", "necrotic core", "NCR"),
    ("left main coronary artery", "LM coronary artery", "left main", "LM", "LMCA"),
    ("left anterior descending artery", "LAD coronary artery", "LAD"),
    ("left circumflex artery", "LCX coronary artery", "circumflex", "LCX"),
    ("right coronary artery", "RCA"),
    ("left coronary artery", "LCA"),
    ("right coronary cusp", "RCC", "right coronary leaflet"),
    ("left coronary cusp", "LCC", "left coronary leaflet"),
    ("non-coronary cusp", "NCC", "noncoronary cusp", "non-coronary leaflet", "noncoronary leaflet"),
    ("internal auditory canal", "IAC", "internal acoustic meatus", "IAM", "internal auditory meatus"),
    ("internal carotid artery", "ICA", "internal carotid"),
    ("common carotid artery", "CCA", "common carotid"),
    ("external carotid artery", "ECA", "external carotid"),
    ("middle cerebral artery", "MCA"),
    ("anterior cerebral artery", "ACA"),
    ("posterior cerebral artery", "PCA"),
    ("anterior communicating artery", "AComm", "ACoA", "Acom", "AComA", "A-comm"),
    ("posterior communicating artery", "PComm", "PCoA", "Pcom", "PComA", "P-comm"),
    ("basilar artery", "BA", "basilar"),
    ("vertebral artery", "VA"),
    ("internal jugular vein", "IJV", "internal jugular", "IJ"),
    ("superior mesenteric artery", "SMA"),
    ("superior mesenteric vein", "SMV"),
    ("inferior mesenteric artery", "IMA"),
    ("inferior mesenteric vein", "IMV"),
    ("celiac trunk", "coeliac trunk", "celiac artery", "coeliac artery", "celiac axis", "coeliac axis", "celiac"),
    ("portal vein", "PV", "vena portae"),
    ("main portal vein", "MPV"),
    ("common iliac artery", "CIA"),
    ("external iliac artery", "EIA"),
    ("internal iliac artery", "IIA"),
    ("common femoral artery", "CFA"),
    ("superficial femoral artery", "SFA"),
    ("profunda femoris artery", "deep femoral artery", "profunda femoris", "PFA", "profunda"),
    ("popliteal artery", "popliteal"),
    ("anterior tibial artery", "ATA"),
    ("posterior tibial artery", "PTA", "PT artery"),
    ("peroneal artery", "fibular artery"),
    ("subcutaneous adipose tissue", "SAT", "subcutaneous fat"),
    ("visceral adipose tissue", "VAT", "visceral fat", "intra-abdominal fat"),
    ("intermuscular adipose tissue", "IMAT", "intermuscular fat"),
    ("quadratus lumborum", "QL"),
    ("psoas", "psoas major", "psoas muscle"),
    ("amniotic fluid", "liquor amnii", "amniotic cavity", "the waters"),
    ("myometrium", "uterine wall", "uterine muscle"),
    ("cervix", "uterine cervix", "cervix uteri"),
    ("calcaneus", "heel bone", "os calcis", "calcaneum"),
    ("talus", "astragalus", "ankle bone"),
    ("medial cuneiform", "cuneiform medial", "first cuneiform"),
    ("intermediate cuneiform", "cuneiform intermediate", "middle cuneiform", "second cuneiform"),
    ("lateral cuneiform", "cuneiform lateral", "third cuneiform"),
    ("confluence of sinuses", "sinus confluence", "torcular herophili", "torcula", "torcular"),
    ("vein of Galen", "great cerebral vein", "great vein of Galen"),
    ("thrombus", "clot", "blood clot", "thrombosis"),
    ("cecum", "caecum"),
    ("small bowel", "small intestine"),
    ("lacrimal gland", "lacrimal"),
    ("skull", "cranium"),
    ("falx cerebri", "falx", "cerebral falx", "midline falx"),
    ("cavum septi pellucidi", "cavum septum pellucidum", "CSP"),
    ("cisterna magna", "CM"),
    ("nuchal fold", "nuchal skin fold", "NF"),
    ("sylvian fissure", "lateral sulcus", "lateral fissure"),
    ("arteriovenous anastomosis", "AV anastomosis", "AVF anastomosis"),
    ("brachiocephalic vein", "innominate vein"),
    ("calculi", "calculus", "stones", "stone"),
    ("intraductal papillary mucinous neoplasm", "IPMN"),
    ("internal capsule", "IC"),
    ("insula", "insular cortex", "insular ribbon"),
    ("arcuate fasciculus", "arcuate"),
    ("corticospinal tract", "CST", "pyramidal tract"),
    ("inferior fronto-occipital fasciculus", "inferior fronto occipital fasciculus", "IFOF", "IFO"),
    ("inferior longitudinal fasciculus", "ILF"),
    ("uncinate fasciculus", "uncinate", "UF"),
    ("optic radiation", "geniculocalcarine tract"),
    ("cingulum", "cingulum bundle"),
    ("retinal nerve fiber layer", "retinal nerve fibre layer", "RNFL", "nerve fiber layer"),
    ("inner nuclear layer", "INL"),
    ("outer plexiform layer", "OPL"),
    ("outer nuclear layer", "ONL"),
    ("retinal pigment epithelium", "RPE"),
    ("intraretinal fluid", "IRF", "intra-retinal fluid"),
    ("subretinal fluid", "SRF"),
    ("pigment epithelial detachment", "PED"),
    ("photoreceptors", "photoreceptor layer"),
    ("puborectalis", "puborectal sling", "puborectalis muscle"),
    ("external anal sphincter", "EAS", "external sphincter of the anus"),
    ("middle turbinate", "middle concha", "middle nasal concha"),
    ("inferior turbinate", "inferior concha", "inferior nasal concha"),
    ("appendix", "vermiform appendix"),
    ("terminal ileum", "TI"),
    ("hepatic flexure", "right colic flexure"),
    ("splenic flexure", "left colic flexure"),
    ("endotracheal tube", "ETT", "ET tube", "endotracheal"),
    ("nasogastric tube", "NGT", "NG tube", "nasogastric"),
    ("central venous catheter", "CVC"),
    ("peripherally inserted central catheter", "PICC", "PICC line"),
    ("pulmonary artery catheter", "Swan Ganz", "Swan-Ganz catheter", "Swan Ganz catheter", "PAC"),
    ("chest tube", "chest drain", "intercostal drain", "thoracostomy tube"),
    ("pneumothorax", "PTX"),
    ("pacemaker", "PPM", "permanent pacemaker"),
    ("ECG leads", "ECG electrodes", "ECG lead", "ECG electrode"),
    ("brachiocephalic trunk", "innominate artery", "BCT"),
    ("subclavian artery", "subclavian"),
    ("neurovascular bundle", "NVB"),
    ("maxillary sinus", "maxillary antrum", "antrum of Highmore"),
    ("nasal septum", "septum nasi"),
    ("ilium", "iliac bone", "os ilium"),
    ("triradiate cartilage", "Y cartilage", "Y-cartilage"),
    ("optic nerve", "CN II", "cranial nerve II"),
    ("spinal cord", "cord", "myelon", "medulla spinalis"),
    ("sacrum", "sacral bone", "os sacrum"),
    ("fibroglandular tissue", "FGT", "glandular tissue", "fibroglandular"),
    ("fat", "adipose tissue", "fatty tissue"),
    ("lung", "lung field"),
    ("GTVp", "primary tumor", "primary gross tumor volume", "primary GTV", "GTVt", "GTV-T", "GTVnx"),
    (
        "GTVn",
        "nodal gross tumor volume",
        "nodal GTV",
        "involved lymph nodes",
        "metastatic lymph nodes",
        "GTVnd",
        "GTV-N",
    ),
    ("fourth ventricle", "4th ventricle", "V4"),
    ("third ventricle", "3rd ventricle", "V3"),
    ("cerebral aqueduct", "aqueduct", "aqueduct of Sylvius", "sylvian aqueduct", "aqueduct of the midbrain"),
    ("vermis", "cerebellar vermis"),
    ("anterior talofibular ligament", "ATFL"),
    ("posterior talofibular ligament", "PTFL"),
    ("calcaneofibular ligament", "CFL"),
    ("anterior cruciate ligament", "ACL"),
    ("posterior cruciate ligament", "PCL"),
    ("achilles tendon", "achilles", "calcaneal tendon", "heel cord"),
    ("joint effusion", "joint fluid"),
    ("bone bruise", "bone contusion", "bone marrow edema"),
    ("peroneal tendons", "fibularis tendons", "peroneus tendons"),
    ("patellar tendon", "patellar ligament", "ligament of the patella"),
    ("fibroid", "leiomyoma", "myoma", "uterine fibroid"),
    ("endometrioma", "chocolate cyst", "ovarian endometrioma"),
    ("crazy paving", "crazy paving pattern"),
    ("consolidation", "airspace consolidation"),
    ("intraluminal thrombus", "ILT", "mural thrombus"),
    ("stent graft", "stentgraft", "endograft", "stent-graft", "endovascular graft"),
    ("supraspinatus", "SSP", "supraspinatus muscle"),
    ("infraspinatus", "ISP", "infraspinatus muscle"),
    ("long head of the biceps tendon", "long head of biceps tendon", "LHBT", "biceps LH tendon", "biceps long head"),
    ("rotator cuff tear", "cuff tear"),
    ("labrum", "glenoid labrum", "acetabular labrum", "labra", "limbus"),
    ("glenoid", "glenoid cavity", "glenoid fossa"),
    ("thecal sac", "dural sac", "dural tube"),
    ("herniation", "disc herniation", "herniated disc", "HNP", "herniated nucleus pulposus", "slipped disc"),
    ("facet joint", "zygapophyseal joint", "zygapophysial joint", "facet"),
    ("aortic root", "aortic bulb"),
    ("calcified plaque", "plaque calc", "calc plaque"),
    ("acetabulum", "hip socket"),
    (
        "ureteral stent",
        "ureteric stent",
        "DJ stent",
        "JJ stent",
        "double J stent",
        "double-J stent",
        "double J catheter",
    ),
    ("perinephric stranding", "perinephric fat stranding", "perirenal stranding", "perirenal fat stranding"),
    ("scaphoid", "carpal navicular", "os scaphoideum"),
    ("TFCC", "triangular fibrocartilage complex", "triangular fibrocartilage"),
    ("ganglion", "ganglion cyst"),
    ("ulnar collateral ligament", "UCL"),
    ("radial collateral ligament", "RCL"),
    ("common extensor tendon", "CET", "common extensor origin"),
    ("common flexor tendon", "CFT", "common flexor origin"),
    ("wilms tumor", "nephroblastoma", "wilms' tumor"),
    ("pleomorphic adenoma", "benign mixed tumor"),
    ("facial nerve", "CN VII", "cranial nerve VII", "seventh cranial nerve"),
    ("aorta", "Ao"),
    ("GTV", "gross tumor volume", "gross disease"),
    ("CTV", "clinical target volume"),
    ("PTV", "planning target volume"),
    ("fetus", "foetus", "baby"),
    ("appendicolith", "fecalith", "faecolith", "appendiceal stone"),
    ("pituitary stalk", "stalk", "infundibulum", "infundibular stalk", "hypophyseal stalk"),
    ("shunt catheter", "shunt", "ventricular catheter", "VP shunt", "ventriculoperitoneal shunt"),
    ("infarct core", "ischemic core", "core infarct"),
    ("penumbra", "ischemic penumbra", "tissue at risk", "salvageable tissue"),
    ("hemorrhagic transformation", "hemorrhagic conversion"),
    ("old infarct", "chronic infarct", "remote infarct", "prior infarct"),
    ("fistula", "fistulous tract", "fistulous track"),
    ("abscess", "abscess cavity"),
    ("pectoralis", "pectoral muscle", "pectoralis muscle"),
    ("honeycombing", "honeycomb change", "honeycomb changes"),
    ("reticulation", "reticular opacities", "reticular opacity", "reticular pattern"),
    ("emphysema", "emphysematous areas", "emphysematous change"),
    ("periventricular edema", "transependymal flow", "transependymal CSF flow"),
    ("ascites", "free fluid", "peritoneal fluid", "intraperitoneal fluid"),
    ("omental cake", "omental caking"),
    ("schwannoma", "neurilemmoma", "neurinoma"),
    ("growth plate", "physis", "epiphyseal plate", "physeal plate"),
    ("ligamentum flavum", "yellow ligament"),
    ("drain", "surgical drain", "drainage catheter"),
    ("pharyngeal constrictor muscle", "PCM", "pharyngeal constrictor"),
    ("anterior mitral leaflet", "AML"),
    ("posterior mitral leaflet", "PML"),
    ("noncalcified plaque", "plaque noncalc", "non calcified plaque", "soft plaque"),
    ("dentate gyrus", "DG", "fascia dentata", "gyrus dentatus"),
    ("entorhinal cortex", "ERC", "entorhinal area", "area entorhinalis"),
    ("CA1", "cornu ammonis 1", "CA1 field", "cornu ammonis field 1"),
    ("TIPS", "TIPS stent", "TIPSS", "transjugular intrahepatic portosystemic shunt"),
    ("calcifications", "calcs", "calcified foci"),
    ("lateral geniculate nucleus", "LGN", "lateral geniculate body", "LGB", "corpus geniculatum laterale"),
    ("medial geniculate nucleus", "MGN", "medial geniculate body", "MGB", "corpus geniculatum mediale"),
    ("mediodorsal nucleus", "MD", "dorsomedial nucleus", "medial dorsal nucleus"),
    ("ventral posterolateral nucleus", "VPL", "VPL nucleus"),
    ("walled-off necrosis", "WON", "walled off necrosis", "WOPN"),
    ("microaneurysms", "MAs", "microaneurysm"),
    ("pseudoaneurysm", "false aneurysm"),
    ("peripancreatic collection", "peripancreatic fluid collection", "peripancreatic fluid"),
)
# general anatomy's words, which a label's abbreviations are written out to ("thal": "thalamus")
_NAMED = (*ANATOMY, *FINDINGS, *KINDS, *"vessel hippocampus cerebellum vermis ascending descending".split())
_NAMED += (*(w for g in SYNONYMS for w in g), *(m for t in (GROUPS, KINDS) for ms in t.values() for m in ms))
_NAMED += tuple(n for names in GROUPS for n in names)
WORDS = frozenset(w for n in _NAMED for w in n.lower().split())
ALONE = frozenset(n.lower() for n in _NAMED)  # words that are a structure's name by themselves
ACRONYMS = frozenset(w.lower() for g in SYNONYMS for w in g if w.isupper())  # "NCC": no noun of anatomy said
_SAID_ALONE = frozenset(map(normalize, ALONE))
# AAPM TG-263's abbreviations of structure names' words; its names put the class first ("Glnd_Submand_L")
_TG263 = {
    **{"glnd": "gland", "musc": "muscle", "lig": "ligament", "ln": "lymph node", "plex": "plexus"},
    **{"med": "medial", "lat": "lateral", "ant": "anterior", "post": "posterior", "sup": "superior"},
    **{"inf": "inferior", "constrict": "constrictor", "prox": "proximal", "dist": "distal"},
    **{"met": "metastasis", "mets": "metastases", "myo": "myocardium", "calc": "calcification", "fx": "fracture"},
}
# findings a class word names the site of: `BoneMet` is no TG-263 class-first name
_LESIONS = {"metastasis", "metastases", "tumor", "lesion", "fracture", "cyst", "nodule"}
_FOUND = frozenset(w for f in FINDINGS for w in f.split())  # `BoneBruise` is a bruise: no "bruise bone"
_TG263_FIRST = {"a": "artery", "v": "vein"}  # only as a name's first word: `LN_V_L` is level V
_CLASSES = {"gland", "muscle", "artery", "vein", "ligament", "bone", "cavity", "lymph node", "nerve"}
_DISCS = ("disc", "intervertebral disc", "IVD")
_FACETS = ("facet", "facet joint", "zygapophyseal joint")
_ORDINAL_WORDS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
# a tumour by its kind's name: `schwannoma`, `adenoma_L`, `osteosarcoma` (a hematoma or a seroma is none)
_TUMOUR = re.compile(
    r"\b\w*(?:sarcoma|carcinoma|blastoma|cytoma|glioma|adenoma|schwannoma|meningioma|lipoma|fibroma|myoma|"
    r"neuroma|lymphoma|melanoma|thelioma|angioma|chondroma|osteoma|papilloma|seminoma|teratoma|neurinoma)\b",
    re.IGNORECASE,
)
_NAMED_LEVELS = {"C1": "atlas", "C2": "axis"}
_REGIONS = {"c": "cervical", "t": "thoracic", "l": "lumbar", "s": "sacral"}
_LEVEL = re.compile(r"^([ctls])(\d{1,2})$")  # a vertebra's level: "vertebrae_L2" is "L2", "lumbar vertebra 2"
_VESSELS = {"artery", "vein"}
_SAID_SIDES = ("", "left", "right")
_AT = {"pulmonary vein": ("superior", "middle", "inferior")}  # named by where as well as side: `LSPV`
_UNSAID = {"of", "the", "and"}
_REGION_NOUNS = {"region", "area"}  # `placenta_accreta_region`: "placenta accreta", as "X region" is X
# a head noun said without the class it is of: `root_L5_left` is a "nerve root", `axillary_node_left` a "lymph node"
_CLASS_OF = {"root": "nerve", "node": "lymph"}
# words of their own that start a longer word of `WORDS`, never its abbreviation: `thecal_sac` is no "thecal sacrum"
_WHOLE = frozenset("sac bulb brachial tail pit cusp gas strip".split())
_GLUED = re.compile(r"^([a-z]{3,})(\d{1,2}[a-z]?)$")  # a name and its number written together
# words a prompt is made of, which no initials may stand for
_PROMPT_WORDS = set("a all an and any as at be but by in is it me no not of on or the to up with".split())
_SIDES = {k.lower(): v for k, v in SHORTHAND.items() if v in SIDES}  # a side as a label name's word: "Kidney_L"
_LATIN_SIDES = {
    "dx": "right",
    "dexter": "right",
    "dextra": "right",
    "sin": "left",
    "sinister": "left",
    "sinistra": "left",
}
_MUSCLE = {"m", "mm", "musculus", "musculi"}  # `M_masseter`: the Latin "musculus" before a muscle's name


def readable(label_name: str, sides: bool = True) -> str:
    """A structure name from a label name: `NonEnhancingTumor`, `non_enhancing_tumor` -> "non enhancing tumor";
    acronyms (`PZ`) stay as they are; a side as one letter is spelled out (`Parotid_L`, `IAC_R` -> "parotid left",
    "IAC right"), unless `sides` is off."""
    if label_name.isupper() and not re.search(r"[-_\s]", label_name):
        return label_name
    spaced = re.sub(r"(?<=[A-Za-z][a-z0-9])(?=[A-Z])|[-_\s]+", " ", label_name).split()  # "eCSF" stays one
    if sides and len(spaced) > 1 and spaced[-1].lower() in _LATIN_SIDES:  # `M_masseter_dx`
        spaced[-1] = _LATIN_SIDES[spaced[-1].lower()]
    return " ".join(
        _SIDES[w.lower()]
        if sides and w.lower() in _SIDES and len(spaced) > 1
        else w
        if w.isupper() and len(w) > 1
        else w.lower()
        for w in spaced
    )


def _bag(text: str) -> tuple[str, ...]:
    return tuple(sorted(normalize(text).split()))


_GROUP_OF = {_bag(w): group for group in SYNONYMS for w in group}
ROMAN = "I II III IV V VI VII VIII IX X XI XII".split()  # numbers as label names and prompts write them
_ROMAN = dict(zip(range(1, 13), ROMAN))


def _initials(name: str) -> str:
    return "".join(w[0] for w in normalize(name).split()).upper()


def _acronym(label_name: str) -> str | None:
    """The one structure of general anatomy, with its side, whose initials an acronym label is: `RK` "right
    kidney", `RAG` "right adrenal gland"; None when none or several are."""
    if not (label_name.isalpha() and label_name.isupper() and 2 <= len(label_name) <= 4):
        return None
    names = {group[0] for group in SYNONYMS}  # not all anatomy: `RCA` is no "right carotid artery"
    said = [" ".join(w for w in (side, at, n) if w) for n in names for side in _SAID_SIDES for at in _AT.get(n, ("",))]
    found = {n for n in said if len(n.split()) > 1 and _initials(n) == label_name}
    return found.pop() if len(found) == 1 else None


def _clipped(said: str) -> bool:
    """Whether `said` is a longer name of its synonym group cut short ("cord" of "spinal cord"), which another
    first word ("umbilical cord") makes another structure."""
    key = normalize(said)
    return any(normalize(w).endswith(f" {key}") for w in _GROUP_OF.get(_bag(said), ()))


def _group(name: str) -> tuple[tuple[str, ...], list[str]]:
    """The synonym group of a label name and what its words are said after, found as the name is (in any word
    order), as its acronym (`RK`), without its one side (kept before each word: "adrenal gland right"), without the
    organ it starts with ("prostate PZ": "peripheral zone", "prostate peripheral zone"), or without a glued side
    ("rkid")."""
    said, acronym = readable(name), _acronym(name)
    bag, words = _bag(said), said.split()
    sides = [w for w in bag if w in SIDES]
    tries = [(bag, [""]), *([(_bag(acronym), [""])] if acronym else [])]
    if len(sides) == 1:
        tries.append((tuple(w for w in bag if w not in SIDES), [f"{sides[0]} "]))
    if acronym and len(said_sides := [w for w in acronym.split() if w in SIDES]) == 1:  # `RAG`: an adrenal gland
        tries.append((tuple(w for w in _bag(acronym) if w not in SIDES), [f"{said_sides[0]} "]))
    if "main" in bag and len(bag) > 1:  # `PA_main`: "main pulmonary artery"
        tries.append((tuple(w for w in bag if w != "main"), ["main "]))
    # "prostate PZ": also "peripheral zone"; never a bare "CSF" of "extracerebral CSF"
    organ_first = words[0].lower() in ALONE - FINDING_NOUNS  # `stone_CBD` is no common bile duct
    if len(words) > 1 and len(words[0]) > 2 and (organ_first or not _clipped(" ".join(words[1:]))):  # "umbilical cord"
        tries.append((_bag(" ".join(words[1:])), ["", f"{words[0]} "] if organ_first else [f"{words[0]} "]))
    if len(bag) == 1 and bag[0][0] in "lr" and len(bag[0]) > 3:
        tries.append(((bag[0][1:],), [f"{_SIDES[bag[0][0]]} "]))
    found = next(((_GROUP_OF[key], before) for key, before in tries if key in _GROUP_OF), None)
    return found or ((acronym,) if acronym else (), [""])


def _spoken(said: str, initials: bool = True) -> list[str]:
    """A name as it is said: its side first ("common carotid artery left": "left common carotid artery"), a
    vessel without its class noun ("basilar", "right coronary"), and a name of several words by its initials
    ("left CCA", "CCA left", "JZ"; none that is a word prompts are made of or shorthand: "optic nerve" is no
    "on", "renal tumour" no "rt")."""
    words = said.split()
    side = [w for w in words if w in SIDES]
    rest = [w for w in words if w not in SIDES]
    if len(side) > 1 or not rest or "and" in rest:  # "portal vein and splenic vein" is said as it is
        return []
    out = [" ".join([*side, *rest])] if side and words[0] != side[0] else []
    if len(side) == 1 and len(rest) == 1 and rest[0].isalpha() and rest[0].isupper() and len(rest[0]) <= 4:
        glued = f"{side[0][0].upper()}{rest[0]}"  # `PA_right` "RPA", `CCA_L` "LCCA"; not `AD_L` "LAD", a name
        out += [] if _bag(glued) in _GROUP_OF else [glued]
    if any(w.isupper() or any(c.isdigit() for c in w) for w in rest):  # "ICA left", "rib left 7": said
        return out
    if len(rest) > 1 and rest[-1] in _VESSELS and not set(rest[:-1]) & set(RELATIONAL):  # not "renal", "pulmonary"
        out.append(" ".join([*side, *rest[:-1]]))
    content = [w for w in rest if w not in _UNSAID and len(w) > 1] if initials else []
    letters = "".join(w[0] for w in content).upper()
    known = letters.lower() in _PROMPT_WORDS | set(SHORTHAND) or len(letters) == 2 and _bag(letters) in _GROUP_OF
    if len(content) > 1 and not known:  # "JZ" of "junctional zone"; not "RT" (right) nor "TZ" of "teres zz"
        out += [" ".join([*side, letters]), *([f"{letters} {side[0]}"] if side else [])]
    return out


def _written_out(said: str) -> str | None:
    """A name whose words abbreviate general anatomy's written out ("left thal", `R_Caud`: each such word of three
    letters or more the start of exactly one word of `WORDS`; TG-263's `Glnd_Submand_L`, `A_Carotid_R` by its
    table), its class noun last as it is said ("left submandibular gland"); None when none is."""
    words = said.split()
    out = [
        _TG263.get(
            w.lower(), _full(words, i) if len(w) >= 3 and w.isalpha() and w.islower() and w not in WORDS | _WHOLE else w
        )
        for i, w in enumerate(words)
    ]
    out[0] = _TG263_FIRST.get(words[0], out[0])  # `A_Carotid_L`
    out[-1] = "middle" if len(out) > 2 and out[-1] == "m" else out[-1]  # `hepatic_vein_M` beside `_R` and `_L`
    if out[0] in _CLASSES and len(out) > 1 and out[1] not in _CLASSES | _LESIONS | _FOUND:  # TG-263: class first
        sides = [w for w in out if w in SIDES]
        out = [*sides, *(w for w in out[1:] if w not in SIDES), out[0]]
    return " ".join(out) if out != words else None


def _full(words: list[str], i: int) -> str:
    """The one word of `WORDS` the `i`th word starts, a structure's name by itself first ("pall": "pallidum", not
    "pallidus" of "globus pallidus"), else the one that makes the name one ("great ves": "great vessels"); the word
    itself when none or several are."""
    found = [w for w in WORDS if w.startswith(words[i])]
    alone = [w for w in found if w in ALONE]
    named = list(
        {
            normalize(w): w for w in found if normalize(" ".join([*words[:i], w, *words[i + 1 :]])) in _SAID_ALONE
        }.values()
    )
    return next((ws[0] for ws in (found, named, alone) if len(ws) == 1), words[i])


def _levels(said: str) -> list[str]:
    """A vertebra by its level (`vertebrae_L2`, or a label named `L2` alone): "L2", "L2 vertebra", "lumbar
    vertebra 2", "second lumbar vertebra"; a disc by the levels it lies between (`disc_L4_L5`): "L4-L5 disc",
    "L4/5 disc", "the intervertebral disc between L4 and L5"."""
    words = normalize(said).split()
    levels = [m.groups() for w in words if (m := _LEVEL.match(w))]
    rest = {w for w in words if not _LEVEL.match(w)}
    if len(levels) == 1 and (not rest or any(w.startswith("vertebra") for w in rest)):
        ((region, n),) = levels
        level, kind = f"{region.upper()}{n}", f"{_REGIONS[region]} vertebra"
        out = [level, f"{level} vertebra", f"vertebra {level}", f"{kind} {n}", *([f"Th{n}"] if region == "t" else [])]
        out += [f"{_NAMED_LEVELS[level]}{w}" for w in ("", " vertebra") if level in _NAMED_LEVELS]  # "axis"
        return out + ([f"{_ORDINAL_WORDS[int(n) - 1]} {kind}"] if int(n) <= len(_ORDINAL_WORDS) else [])
    if len(levels) == 1 and "root" in rest and rest <= {"root", "nerve", *SIDES}:  # `root_C7_L`
        ((region, n),) = levels
        side, level = " ".join(w for w in words if w in SIDES), f"{region.upper()}{n}"
        said = [f"{level} nerve root", f"{level} root", f"{_REGIONS[region]} nerve root {n}"]
        ordinal = _ORDINAL_WORDS[int(n) - 1 : int(n)]  # "seventh cervical nerve root"
        said += [f"{ordinal[0]} {_REGIONS[region]} nerve root"] if ordinal else []
        return [f"{side} {x}".strip() for x in said]
    joint = _FACETS if "facet" in rest else _DISCS  # `facet_L4_L5_L`: the facet joint at that level
    if len(levels) != 2 or not rest & {"disc", "ivd", "intervertebral", "facet"}:
        return []
    (a, an), (b, bn) = levels
    upper, lower = f"{a.upper()}{an}", f"{b.upper()}{bn}"
    out = [f"{x} {d}" for x in {f"{upper}-{lower}", f"{upper}/{bn if a == b else lower}"} for d in joint]
    if joint is _FACETS:  # said with its side first: "left L4-L5 facet joint"
        return [" ".join([*(w for w in words if w in SIDES), x]) for x in out]
    out += [f"intervertebral disc {upper}-{lower}", *(f"{d} between {upper} and {lower}" for d in _DISCS[:2])]
    return out + (["lumbosacral disc"] if (upper, lower) == ("L5", "S1") else [])


def _reworded(words: list[str]) -> list[str]:
    """A name with its head's class (`root_L5_left` "nerve root L5 left"), without its trailing region noun
    (`placenta_accreta_region` "placenta accreta") or without the organ before a rest no structure's name is in
    ("accreta region"; never "amygdala right" of `hippocampus_amygdala_R`)."""
    classed = [f"{_CLASS_OF[w]} {w}" if w in _CLASS_OF else w for w in words]
    out = [" ".join(classed)] if classed != words else []
    if len(words) > 2 and words[-1] in _REGION_NOUNS:
        out.append(" ".join(words[:-1]))
    if len(words) > 2 and words[0] in ALONE and not ALONE & {*words[1:]}:
        out.append(" ".join(words[1:]))
    return out


def _spelled(said: str) -> list[str]:
    """A longer name with its acronyms written out (`TI_wall` "terminal ileum wall", `MCA_territory_L`) and
    a first word cut short of its organ where the rest is what the organ is made of or holds (`cord_GM`
    "spinal cord GM")."""
    words = said.split()
    held = len(words) == 2 and normalize(words[1]) in TISSUES | FINDING_NOUNS
    out = [
        _GROUP_OF[_bag(w)][0]
        if _bag(w) in _GROUP_OF and (w.isupper() and len(w) > 1 or not i and held and _clipped(w))
        else w
        for i, w in enumerate(words)
    ]
    return [x := " ".join(out), *_spoken(x, initials=False)] if len(words) > 1 and out != words else []


def _halves(said: str) -> list[str]:
    """An unpaired organ's half by its side (`HALVES`): "thyroid right" is "the right thyroid lobe", "the right
    lobe of the thyroid", "the right lobe"."""
    side = [w for w in said.split() if w in SIDES]
    organ = " ".join(w for w in said.split() if w not in SIDES)
    if len(side) != 1 or organ not in HALVES:
        return []
    half, noun = HALVES[organ], HALVES[organ].split()[-1]
    return [f"{side[0]} {half}", f"{side[0]} {noun} of the {organ}", f"{side[0]} {organ} {noun}", f"{side[0]} {noun}"]


def _finding_first(words: list[str]) -> list[str]:
    """A finding named before its site (`mass_testis_R`, `lesion_kidney_L`) as people say it, its site first and
    its kind in any of its group's words: "right testis mass", "right testis lesion"."""
    site = [w for w in words[1:] if w not in SIDES]
    if len(words) < 2 or singular(words[0]) not in FINDING_NOUNS or not site or FINDING_NOUNS & set(site):
        return []
    side = [w for w in words if w in SIDES][:1]
    return [" ".join([*side, *site, kind]) for kind in _group(words[0])[0] or (words[0],)]


def synonyms(name: str) -> list[str]:
    """The other wordings of a structure named `name`: its alternatives (`prostate/uterus`), its synonym group's
    words (`_group`), as it is said (`_spoken`), its abbreviations written out (`_written_out`), a number also in
    Roman numerals ("segment IV"), a vertebra or a disc by its levels (`_levels`),
    a tooth by number and name (`teeth.py`), a lymph-node level or station by code and name (`nodes.py`), a bone
    of the hand or foot by digit (`digits.py`)."""
    group, before = _group(name)
    said = readable(name)
    out = [readable(part) for part in name.split("/")] if "/" in name else []
    out += [f"{b}{w}" for w in group for b in before] + _spoken(said)
    out += [x for w in group for b in before for x in _spoken(f"{b}{w}", initials=False)]  # "right coronary"
    if full := _written_out(said):
        out += [full, *synonyms(full)]
    if said.split()[0] in _MUSCLE and len(said.split()) > 1:  # "m masseter right": "masseter right"
        out += [named := " ".join(said.split()[1:]), *synonyms(named)]
    *noun, number = said.split() or [""]
    numbered = re.fullmatch(r"(\d{1,2})([a-z]?)", number)
    if noun and numbered and int(numbered[1]) in _ROMAN:  # "segment 4": "segment IV"; "segment 4a": "segment IVa"
        out.append(" ".join([*noun, _ROMAN[int(numbered[1])] + numbered[2]]))
        out += [] if numbered[2] else [" ".join([_ORDINAL_WORDS[int(numbered[1]) - 1], *noun])]  # "first nodule"
        out += [f"{w} {number}" for w in _group(" ".join(noun))[0] if " ".join(noun) != w]  # "leiomyoma 1"
    if glued := _GLUED.match(said):  # `Seg4a`, `Rib12`: "segment 4a", "rib 12"
        out += [apart := f"{SHORTHAND.get(glued[1], glued[1])} {glued[2]}", *synonyms(apart)]
    out += _reworded(said.split()) + _levels(said) + _halves(said) + _spelled(said)
    out += [_TUMOUR.sub("tumor", said)] if _TUMOUR.search(said) else []  # `schwannoma`: "the tumour"
    out += _finding_first(said.split())
    out += [f"{OF_ORGAN[said]} {said}"] if said in OF_ORGAN else []  # `caudate_lobe`: "liver caudate lobe"
    out += teeth.wordings(said) + nodes.wordings(said) + digits.wordings(said)
    return [w for w in dict.fromkeys(out) if normalize(w) != normalize(said)]
