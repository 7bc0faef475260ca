"""Hand-checked matching cases: the arithmetic is worked in the comments, not by the code.

Every case places the found animal `km` due north of the last-seen point (so the
great-circle distance is exactly that) and `hours` after the last-seen time (negative:
before). Weights: 0.35 distance, 0.15 time, 0.20 breed, 0.20 colours, 0.05 size, 0.05 sex.
Constants used below (9 decimals):
    exp(-0/5)  = 1              exp(-0/14)   = 1
    exp(-1/5)  = 0.818730753    exp(-0.5/14) = 0.964915944
    exp(-2/5)  = 0.670320046    exp(-1/14)   = 0.931062780
    exp(-3/5)  = 0.548811636    exp(-2/14)   = 0.866877900
    exp(-5/5)  = 0.367879441    exp(-7/14)   = 0.606530660
    exp(-10/5) = 0.135335283    exp(-14/14)  = 0.367879441
    exp(-24.9/5) = 0.006874063  exp(-60/14)  = 0.013763787
    exp(-30/5) = 0.002478752
`score` None means "not a candidate" (score_pair gives None).
"""

from __future__ import annotations

from attrs import field, frozen

from tailtracker_core.model.pets import Sex, Size, Species


@frozen
class Side:
    species: Species = Species.DOG
    breed: str | None = "Beagle"
    colours: tuple[str, ...] = ("tan", "white")
    size: Size | None = Size.MEDIUM
    sex: Sex | None = Sex.FEMALE
    chip: str | None = None


@frozen
class Case:
    name: str
    km: float
    hours: float
    lost: Side = field(factory=Side)
    found: Side = field(factory=Side)
    radius_km: float = 5.0
    open: bool = True
    score: float | None = None
    returned: bool = False
    notify: bool = False
    certain: bool = False


CASES = [
    Case(
        "identical animal, same place and time",
        km=0,
        hours=0,
        # 0.35*1 + 0.15*1 + 0.20*1 + 0.20*1 + 0.05*1 + 0.05*1 = 1.0
        score=1.0,
        returned=True,
        notify=True,
    ),
    Case(
        "5 km, a week later, breed spelt differently, half the colours, size unknown, other sex",
        km=5,
        hours=7 * 24,
        lost=Side(breed="Labrador Retriever", colours=("black", "white"), size=Size.LARGE, sex=Sex.MALE),
        found=Side(breed="  labrador   RETRIEVER ", colours=("black",), size=None, sex=Sex.FEMALE),
        # 0.35*0.367879441 = 0.128757804
        # 0.15*0.606530660 = 0.090979599
        # 0.20*1 (same breed after case and whitespace folding) = 0.2
        # 0.20*(|{black}| / |{black, white}| = 1/2) = 0.1
        # 0.05*0.5 (size unknown) = 0.025
        # 0.05*0 (male vs female) = 0
        # total 0.544737403
        score=0.544737403,
        returned=True,
    ),
    Case(
        "2 km, seen 12 h BEFORE last seen (days is the absolute gap), unknowns score 0.5",
        km=2,
        hours=-12,
        lost=Side(colours=(), sex=Sex.UNKNOWN),
        found=Side(breed=None, colours=(), sex=Sex.MALE),
        # 0.35*0.670320046 = 0.234612016
        # 0.15*exp(-0.5/14) = 0.15*0.964915944 = 0.144737392
        # 0.20*0.5 (found breed unknown) = 0.1
        # 0.20*0.5 (both colour sets empty: unknown, not Jaccard 0/0) = 0.1
        # 0.05*1 (medium = medium) = 0.05
        # 0.05*0.5 (Sex.UNKNOWN is unknown) = 0.025
        # total 0.654349408 > 0.60: notify
        score=0.654349408,
        returned=True,
        notify=True,
    ),
    Case(
        "10 km, two weeks, different breed, colours and size: scored but below 0.30",
        km=10,
        hours=14 * 24,
        lost=Side(breed="Beagle", colours=("black",), size=Size.SMALL),
        found=Side(breed="Poodle", colours=("white",), size=Size.LARGE),
        # 0.35*0.135335283 = 0.047367349
        # 0.15*0.367879441 = 0.055181916
        # breed 0, colours 0/2 = 0, size 0
        # 0.05*1 (female = female) = 0.05
        # total 0.152549265 < 0.30: not returned
        score=0.152549265,
    ),
    Case(
        "24.9 km from a 5 km report: inside the 25 km floor of the search radius",
        km=24.9,
        hours=24,
        lost=Side(colours=("ginger",)),
        found=Side(colours=("Ginger",)),
        # 0.35*0.006874063 = 0.002405922
        # 0.15*0.931062780 = 0.139659417
        # 0.20 + 0.20*1 ({ginger} = {ginger}) + 0.05 + 0.05 = 0.5
        # total 0.642065339
        score=0.642065339,
        returned=True,
        notify=True,
    ),
    Case(
        "25.5 km from a 5 km report: outside max(5, 25) km",
        km=25.5,
        hours=1,
        score=None,
    ),
    Case(
        "30 km from a 50 km report: the report's own radius is the bound",
        km=30,
        hours=48,
        radius_km=50,
        lost=Side(colours=("black", "white", "tan"), size=None, sex=None),
        found=Side(colours=("Black ", "WHITE"), size=None, sex=Sex.UNKNOWN),
        # 0.35*0.002478752 = 0.000867563
        # 0.15*0.866877900 = 0.130031685
        # 0.20*1 (Beagle) = 0.2
        # 0.20*(|{black, white}| / |{black, white, tan}| = 2/3) = 0.133333333
        # 0.05*0.5 (both sizes unknown) + 0.05*0.5 (both sexes unknown) = 0.05
        # total 0.514232581
        score=0.514232581,
        returned=True,
    ),
    Case(
        "seen 25 h before the last-seen time: outside the window",
        km=0,
        hours=-25,
        score=None,
    ),
    Case(
        "exactly 24 h before the last-seen time: the window's edge is included",
        km=1,
        hours=-24,
        lost=Side(breed="Unknown", colours=("tan", "white")),
        found=Side(breed="Beagle", colours=("tan", "white", "black")),
        # 0.35*0.818730753 = 0.286555764
        # 0.15*0.931062780 = 0.139659417 (|-1 day| = 1)
        # 0.20*0.5 ("Unknown" is no breed) = 0.1
        # 0.20*(2/3) = 0.133333333
        # 0.05*1 + 0.05*1 = 0.1
        # total 0.759548514
        score=0.759548514,
        returned=True,
        notify=True,
    ),
    Case(
        "exactly 60 days after: the window's edge is included",
        km=0,
        hours=60 * 24,
        # 0.35*1 + 0.15*0.013763787 (= 0.002064568) + 0.20 + 0.20 + 0.05 + 0.05
        # total 0.852064568
        score=0.852064568,
        returned=True,
        notify=True,
    ),
    Case(
        "60 days and one second after: outside the window",
        km=0,
        hours=60 * 24 + 1 / 3600,
        score=None,
    ),
    Case(
        "a cat is never a dog, however alike",
        km=0,
        hours=0,
        found=Side(species=Species.CAT),
        score=None,
    ),
    Case(
        "same chip however typed: certain, whatever the distance, the delay and the looks",
        km=300,
        hours=90 * 24,
        lost=Side(chip="276098106543210", breed="Beagle", colours=("tan",)),
        found=Side(chip="276-098.106 543 210", breed="Poodle", colours=("black",), size=None),
        # chip match: 1.0, no weighting
        score=1.0,
        returned=True,
        notify=True,
        certain=True,
    ),
    Case(
        "same chip, different species: species comes first",
        km=0,
        hours=0,
        lost=Side(chip="276098106543210"),
        found=Side(chip="276098106543210", species=Species.CAT),
        score=None,
    ),
    Case(
        "same chip seen two days before the pet was lost: an earlier episode, not this one",
        km=0,
        hours=-48,
        lost=Side(chip="276098106543210"),
        found=Side(chip="276098106543210"),
        score=None,
    ),
    Case(
        "different chips on each side: not excluded, scored like any other pair",
        km=3,
        hours=0,
        lost=Side(chip="276098106543210", size=Size.SMALL, sex=Sex.MALE),
        found=Side(chip="276098106543211", size=Size.LARGE, sex=Sex.FEMALE),
        # 0.35*0.548811636 = 0.192084073
        # 0.15*1 = 0.15
        # 0.20*1 + 0.20*1 ({tan, white} both sides) = 0.4
        # size 0, sex 0
        # total 0.742084073
        score=0.742084073,
        returned=True,
        notify=True,
    ),
    Case(
        "a closed report matches nothing",
        km=0,
        hours=0,
        open=False,
        score=None,
    ),
]
