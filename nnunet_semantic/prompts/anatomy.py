"""General anatomy, none of it any one model's. `ANATOMY`: names of structures across the body, what a model must
refuse when it does not know them. The predictor calibrates its free-text threshold against those its ontology
cannot read (`unknown_threshold`): one unusual held-out wording of a user's ontology must not open the door to
"liver" on a heart model. `GROUPS` and `KINDS`: what groups and kinds of structures are made of (`groups.py`)."""

from __future__ import annotations

import re

ANATOMY = (
    # head and neck
    "brain",
    "cerebrum",
    "cerebellum",
    "brainstem",
    "thalamus",
    "hypothalamus",
    "amygdala",
    "caudate nucleus",
    "putamen",
    "corpus callosum",
    "lateral ventricle",
    "pituitary gland",
    "optic nerve",
    "eye",
    "skull",
    "thyroid gland",
    "parotid gland",
    "larynx",
    "trachea",
    "esophagus",
    "carotid artery",
    "jugular vein",
    # thorax
    "heart",
    "myocardium",
    "left ventricle",
    "right ventricle",
    "left atrium",
    "right atrium",
    "pericardium",
    "lung",
    "pleura",
    "bronchus",
    "aorta",
    "pulmonary artery",
    "superior vena cava",
    "breast",
    "rib",
    "sternum",
    # abdomen and pelvis
    "liver",
    "gallbladder",
    "spleen",
    "pancreas",
    "stomach",
    "duodenum",
    "small intestine",
    "colon",
    "rectum",
    "appendix",
    "kidney",
    "adrenal gland",
    "ureter",
    "urinary bladder",
    "prostate",
    "uterus",
    "ovary",
    "testis",
    "inferior vena cava",
    "portal vein",
    "peritoneum",
    # musculoskeletal and others
    "spine",
    "vertebra",
    "spinal cord",
    "intervertebral disc",
    "pelvis",
    "femur",
    "humerus",
    "tibia",
    "scapula",
    "clavicle",
    "hip joint",
    "knee joint",
    "skeletal muscle",
    "skin",
    "subcutaneous fat",
    "lymph node",
)


def _table(text: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """`names: members` per line, each a comma-separated list."""
    rows = (line.split(":") for line in re.sub(r"\n\s+", " ", text.strip()).splitlines())
    return {
        tuple(n.strip() for n in names.split(",")): tuple(m.strip() for m in members.split(","))
        for names, members in rows
    }


# a group's names: its members, each a structure of general anatomy without its side
GROUPS = _table("""
basal ganglia, basal nuclei: caudate, putamen, pallidum
striatum: caudate, putamen
lentiform nucleus, lenticular nucleus: putamen, pallidum
great arteries: aorta, pulmonary artery
calvarium, calvaria, skull vault, skull cap: frontal bone, parietal bone, occipital bone
lateral abdominal wall muscles, flat abdominal muscles, flank muscles: external oblique, internal oblique,
    transversus abdominis
oblique muscles, obliques, abdominal obliques: external oblique, internal oblique
extraocular muscles, eye muscles, EOMs, EOM: medial rectus, lateral rectus, superior rectus, inferior rectus,
    superior oblique, inferior oblique
recti: medial rectus, lateral rectus, superior rectus, inferior rectus
horizontal recti: medial rectus, lateral rectus
vertical recti: superior rectus, inferior rectus
atrioventricular valves, AV valves: mitral valve, tricuspid valve
great vessels: aorta, pulmonary artery, superior vena cava, inferior vena cava, pulmonary vein
cardiac chambers, heart chambers, chambers of the heart, chambers: atrium, ventricle, ventricular
    cavity, ventricular blood pool
coronary arteries, coronary tree, coronary artery tree, coronaries: left main coronary artery, left
    anterior descending artery, left circumflex artery, right coronary artery
solid organs, solid abdominal organs: liver, spleen, pancreas, kidney
bowel, intestines, gut: small bowel, small intestine, duodenum, colon, sigmoid colon, rectum
bony pelvis, pelvic bones, pelvic girdle, pelvis: hip bone, sacrum, coccyx
shoulder girdle, pectoral girdle: scapula, clavicle
lower leg bones, leg bones, bones of the lower leg, crural bones: tibia, fibula
forearm bones, bones of the forearm: radius, ulna
optic apparatus, optic pathway, visual pathway: optic nerve, optic chiasm, optic tract
anterior circulation: internal carotid artery, middle cerebral artery, anterior cerebral artery,
    anterior communicating artery
gonads: ovary, testis
salivary glands, major salivary glands: parotid gland, submandibular gland, sublingual gland
inner ear, labyrinth, bony labyrinth: cochlea, vestibule, semicircular canal
rotator cuff, rotator cuff muscles, sits muscles: supraspinatus, infraspinatus, teres minor, subscapularis
hamstrings, hamstring muscles: biceps femoris, semitendinosus, semimembranosus
quadriceps, quadriceps femoris, quadriceps muscles, quads: rectus femoris, vastus lateralis, vastus
    medialis, vastus intermedius
gluteal muscles, glutei, glutes: gluteus maximus, gluteus medius, gluteus minimus
biliary system, biliary tree: gallbladder, common bile duct, bile duct, hepatic duct, cystic duct,
    common hepatic duct, right hepatic duct, left hepatic duct
bile ducts, biliary ducts: common bile duct, bile duct, hepatic duct, cystic duct, common hepatic duct,
    right hepatic duct, left hepatic duct
urinary tract: kidney, ureter, urinary bladder, urethra
cervical spine, c spine: cervical vertebra
thoracic spine, t spine, dorsal spine: thoracic vertebra
lumbar spine, l spine: lumbar vertebra
lumbosacral spine: lumbar vertebra, sacrum
brachial plexus roots, plexus roots, roots of the brachial plexus: C5 nerve root, C6 nerve root, C7 nerve
    root, C8 nerve root, T1 nerve root
ventricles of the brain, brain ventricles, cerebral ventricles: lateral ventricle, third ventricle, fourth
    ventricle, inferior lateral ventricle
ventricular system: lateral ventricle, third ventricle, fourth ventricle, inferior
    lateral ventricle, cerebral aqueduct, interventricular foramen
tarsal bones, tarsals, tarsus: talus, calcaneus, navicular, cuboid, cuneiform, medial cuneiform, intermediate
    cuneiform, lateral cuneiform
hindfoot, hindfoot bones, rearfoot: talus, calcaneus
midfoot, midfoot bones: navicular, cuboid, cuneiform, medial cuneiform, intermediate cuneiform,
    lateral cuneiform
dural venous sinuses, dural sinuses, venous sinuses, cerebral venous sinuses: superior sagittal sinus,
    inferior sagittal sinus, straight sinus, confluence of sinuses, transverse sinus, sigmoid sinus, occipital sinus
muscles of mastication, masticatory muscles, chewing muscles: masseter, temporalis, medial pterygoid, lateral
    pterygoid
pterygoid muscles, pterygoids: medial pterygoid, lateral pterygoid
levator ani, levator ani muscle, levator ani muscles: puborectalis, pubococcygeus, iliococcygeus
paranasal sinuses, sinuses: frontal sinus, maxillary sinus, ethmoid sinus, ethmoid, anterior ethmoid,
    posterior ethmoid, sphenoid sinus
ethmoid sinuses, ethmoid air cells, ethmoids: ethmoid sinus, ethmoid, anterior ethmoid, posterior ethmoid
carpal bones, carpals, carpus: scaphoid, lunate, triquetrum, pisiform, trapezium, trapezoid, capitate, hamate
proximal carpal row: scaphoid, lunate, triquetrum, pisiform
distal carpal row: trapezium, trapezoid, capitate, hamate
thoracic aorta: ascending aorta, aortic arch, descending aorta
anorectum: rectum, anal canal
thyroid, thyroid gland, whole thyroid: thyroid lobe, isthmus, thyroid isthmus
cerebellum, whole cerebellum: cerebellar hemisphere, vermis
upper urinary tract, upper urinary tracts: kidney, ureter
KUB, kidneys ureters and bladder: kidney, ureter, urinary bladder
intracranial hemorrhage, intracranial haemorrhage, intracranial hemorrhages, intracranial bleeding: epidural hematoma,
    subdural hematoma, subarachnoid hemorrhage, intraventricular hemorrhage, intraparenchymal hemorrhage
extra-axial hemorrhages, extra-axial haemorrhages, extra-axial bleeds: subarachnoid hemorrhage, subdural hematoma,
    epidural hematoma
triceps surae, calf muscles: gastrocnemius, gastrocnemius medial, gastrocnemius lateral, soleus
csf spaces, csf compartments, cerebrospinal fluid spaces: cerebrospinal fluid, external cerebrospinal fluid,
    extracerebral cerebrospinal fluid, lateral ventricle, third ventricle, fourth ventricle, ventricle
hepatic veins: hepatic vein, right hepatic vein, middle hepatic vein, left hepatic vein
pharyngeal constrictors, pharyngeal constrictor muscles, constrictors, constrictor muscles: constrictor,
    pharyngeal constrictor
""")
# structures that follow one another along a tube, each as it is said: "cecum through descending colon", "the colon
# from the transverse to the rectum"; the first word of each row names the whole, the others its members in order
SERIES = {
    "colon": ("cecum", "ascending colon", "transverse colon", "descending colon", "sigmoid colon", "rectum"),
    "small bowel": ("duodenum", "jejunum", "ileum"),
    "aorta": ("aortic root", "ascending aorta", "aortic arch", "descending aorta", "abdominal aorta"),
}
# parts named without their organ: `caudate_lobe` is a lobe of the liver ("the liver lobes" hold it)
OF_ORGAN = {"caudate lobe": "liver", "quadrate lobe": "liver", "uncinate process": "pancreas"}
# an unpaired organ's halves by side, as its labels may split it: `thyroid_R` is "the right thyroid lobe"
HALVES = {
    "thyroid": "thyroid lobe",
    "thyroid gland": "thyroid lobe",
    "liver": "hepatic lobe",
    "cerebellum": "cerebellar hemisphere",
    "brain": "cerebral hemisphere",
    "cerebrum": "cerebral hemisphere",
}
# a kind: its members besides the structures whose name ends in the kind's word ("common carotid artery")
KINDS = {
    k[0]: v
    for k, v in _table("""
bone: femur, tibia, fibula, patella, humerus, radius, ulna, scapula, clavicle, clavicula, rib,
    vertebra, sacrum, coccyx, hip, ilium, ischium, pubis, skull, mandible, maxilla, sternum,
    calcaneus, talus, femoral head, hyoid, humeral head, scaphoid, lunate, triquetrum, pisiform, trapezium,
    trapezoid, capitate, hamate, metacarpal, phalanx, navicular, cuboid, cuneiform, metatarsal, carpal bone,
    tarsal bone, glenoid, acromion, coracoid, olecranon, malleolus, condyle, trochanter, epicondyle, acetabulum,
    radial head
tendon: achilles tendon, patellar tendon, quadriceps tendon, common extensor tendon, common flexor tendon
ligament: cruciate ligament, collateral ligament
nerve: optic nerve, median nerve, ulnar nerve, radial nerve, sciatic nerve, facial nerve, vagus nerve, nerve root
artery: aorta, celiac trunk, brachiocephalic trunk, pulmonary trunk
vein: inferior vena cava, superior vena cava, vena cava, pulmonary vein
muscle: iliopsoas, psoas, autochthon, gluteus maximus, gluteus medius, gluteus minimus, sartorius,
    gracilis, adductor longus, adductor brevis, adductor magnus, rectus femoris, vastus lateralis,
    vastus medialis, vastus intermedius, biceps femoris, semitendinosus, semimembranosus,
    supraspinatus, infraspinatus, teres minor, subscapularis, rectus abdominis, deltoid, gastrocnemius,
    gastrocnemius medial, gastrocnemius lateral, soleus, tibialis anterior, tibialis posterior, peroneus longus,
    extensor digitorum longus, pharyngeal constrictor, constrictor, masseter, temporalis, pectoralis major,
    trapezius, latissimus dorsi, erector spinae, multifidus, quadratus lumborum, diaphragm, teres major,
    biceps brachii, triceps brachii, brachialis, coracobrachialis, pectoralis minor, serratus anterior
tooth: incisor, central incisor, lateral incisor, canine, cuspid, premolar, bicuspid, molar, wisdom tooth
organ: liver, spleen, pancreas, kidney, stomach, gallbladder, adrenal gland, urinary bladder,
    uterus, ovary, prostate, testis, rectum, colon, sigmoid colon, small bowel, duodenum, small
    intestine, esophagus, heart, lung, brain, thyroid gland, thyroid, ureter, urethra, bladder, larynx, pharynx,
    appendix, cecum, jejunum, ileum
""").items()
}
# structures of no kind above, known not to be one: findings and parts that are not organs or bones
# (not a dental crown, bridge or implant: whether "all the teeth" holds them, the prompt does not say)
FINDINGS = (
    "tumor, lesion, mass, cyst, edema, necrosis, metastasis, aneurysm, nodule, hemorrhage, whole tumor, "
    "tumor core, enhancing tumor, non enhancing tumor, trachea, spinal cord, spinal canal, "
    "intervertebral disc, myocardium, cartilage, meniscus, lymph node, lymph node station, station, canal, "
    "plaque, calcification, stent, placenta, umbilical cord, amniotic fluid, tear, effusion, thrombus, herniation, "
    "fracture, labrum, bruise, contusion, collection, hematoma, endoleak, stent graft, stentgraft, fluid, isthmus, "
    "ganglion, triangular fibrocartilage complex, stranding, calculus, ureteral stent, laceration, hemoperitoneum, "
    "extravasation, infarct, embolus"
).split(", ")
