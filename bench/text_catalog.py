"""A text-only, large synthetic catalog shaped like a hardware / home-improvement shop, with evaluation queries
whose relevance is known by construction.

    python bench/text_catalog.py OUT_DIR [--products 50000] [--seed 7]

Writes ``OUT_DIR/products.jsonl`` (docs: ../shared/catalog-format.md) and ``OUT_DIR/eval/text_dev.jsonl``,
``text_test.jsonl`` and ``absent.jsonl``. No photos. Everything is deterministic for a seed.

Products: about 125 product types (power tools, hand tools, plumbing, electrical, paint, hardware, garden, storage,
flooring, appliances, and accessories whose titles name another type: a "Drill Bit Set" is not a drill, a "Faucet
Cartridge" is not a faucet), about 220 brands, and per type the structured "dimensions" a shopper asks for: power
source, size, material, colour / finish, room, sheen, fuel... Each product holds one value per dimension of its
type. Titles are noisy on purpose: the type is named by one of several nouns ("Drill/Driver", "Hammer Drill"; now
and then "Tap" for a faucet, "Tubing" for PEX pipe), a value by one of several forms ("Cordless", "Battery-Powered",
or only "20V MAX"; "1/2 in.", "1/2 inch", '1/2"'; "Gray" / "Grey"), a value is sometimes only in the attributes or
the description, the brand is sometimes left out of the title, and descriptions carry distractor words ("compatible
with most drills", "pre-drilled holes", "tap water").

Queries (1-4 words) come from the structured fields, never from text matching: a type ("cordless drill" is a type
plus a power constraint), a type with one constraint (brand, power, material, size, colour, room...) or two (brand
plus another), and a few descriptive ones ("tool to cut tile") whose answer is a fixed set of types. Grades: 2 = the
product's type is the query's and it satisfies every constraint; 1 = right type, exactly one constraint missed.
When grade 2 and grade 1 together exceed ``MAX_RELEVANT`` (500) products, only the grade-2 products are listed
(the query's line says nothing about it; the run's summary counts them); a query whose grade-2 set alone exceeds it,
or has fewer than ``MIN_RELEVANT`` products, is not used. The same need (type + constraints) may be asked in two
wordings (a plural, a synonym); needs are split into dev (~30%) and test by a hash of the need, so the two files
share no query and no need, and the split is the same on every run. Within a type no query wording may mean two
constraints ("brass faucet": a material or a finish?): checked on every run.

``absent.jsonl``: queries for things this shop does not sell, and nonsense; none of their words (nor their English
stems) occurs in any generated title, description, category, brand or attribute: checked on every run, and the
script fails loudly otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

MAX_RELEVANT = 500  # more grade-2 + grade-1 products than this: grade 1 is left out; grade 2 alone: query unused
MIN_RELEVANT = 3  # fewer grade-2 products than this: query unused
DEV_SHARE = 0.3


# --------------------------------------------------------------------------------------------------------------
# Values of a dimension: a label (the attribute value), its family (what a coarser query asks for: "Matte Black"
# is a "Black"), the forms a title may use and the forms a query may use.


@dataclass
class Value:
    label: str
    title: list[str]
    query: list[str]
    family: str
    family_query: list[str]
    weight: float = 1.0


def V(label, title=None, q=None, family=None, fq=None, w=1.0) -> Value:  # noqa: N802
    family = family or label
    return Value(label, title or [label], q or [label.lower()], family, fq or [family.lower()], w)


def S(text: str, w: float = 1.0) -> Value:  # noqa: N802
    """A size, with the spellings shops and shoppers use for its unit."""
    units = [
        (" cu. ft.", lambda n: [f"{n} cu. ft.", f"{n} cu ft"], lambda n: [f"{n} cu ft", f"{n} cubic feet"]),
        (" lb.", lambda n: [f"{n} lb.", f"{n}-lb.", f"{n} lb"], lambda n: [f"{n} lb", f"{n} pound"]),
        (" oz.", lambda n: [f"{n} oz.", f"{n}-oz.", f"{n} oz"], lambda n: [f"{n} oz", f"{n} ounce"]),
        (" Amp", lambda n: [f"{n} Amp", f"{n}-Amp", f"{n}A"], lambda n: [f"{n} amp"]),
        (" Watt", lambda n: [f"{n}-Watt", f"{n}W", f"{n} Watt"], lambda n: [f"{n} watt", f"{n}w"]),
        (" Pint", lambda n: [f"{n} Pint", f"{n}-Pint"], lambda n: [f"{n} pint"]),
        ("-Piece", lambda n: [f"{n}-Piece", f"{n} Piece"], lambda n: [f"{n} piece"]),
        ("-Pack", lambda n: [f"{n}-Pack", f"{n} Pack"], lambda n: [f"{n} pack"]),
        ("-Light", lambda n: [f"{n}-Light", f"{n} Light"], lambda n: [f"{n} light"]),
        (" in.", lambda n: [f"{n} in.", f"{n} inch", f'{n}"', f"{n}-in."], lambda n: [f"{n} in", f"{n} inch", f'{n}"']),
        (" ft.", lambda n: [f"{n} ft.", f"{n}-ft.", f"{n} ft", f"{n} Foot"], lambda n: [f"{n} ft", f"{n} foot"]),
        (" gal.", lambda n: [f"{n} gal.", f"{n}-Gallon", f"{n} Gal."], lambda n: [f"{n} gallon", f"{n} gal"]),
        (" qt.", lambda n: [f"{n} qt.", f"{n} Quart"], lambda n: [f"{n} quart", f"{n} qt"]),
        (" HP", lambda n: [f"{n} HP", f"{n} Horsepower"], lambda n: [f"{n} hp"]),
        ("W", lambda n: [f"{n}-Watt Equivalent", f"{n}W Equivalent", f"{n} Watt Equivalent"],
         lambda n: [f"{n} watt", f"{n}w"]),
        ("Ah", lambda n: [f"{n}Ah", f"{n} Ah"], lambda n: [f"{n}ah", f"{n.split('.')[0]}ah"]),
        (" PSI", lambda n: [f"{n} PSI", f"{n}-PSI"], lambda n: [f"{n} psi"]),
    ]  # fmt: skip
    for unit, titles, queries in units:
        if text.endswith(unit):
            number = text[: -len(unit)]
            return Value(text, titles(number), queries(number), text, [], w)
    return Value(text, [text], [text.lower()], text, [], w)


POWER = {
    "Cordless": V("Cordless", ["{platform} Cordless", "Cordless", "{platform}", "Battery-Powered",
     "{platform} Battery Powered"],
                  ["cordless", "battery", "battery powered", "battery operated"]),
    "Corded": V("Corded", ["Corded", "{amp} Amp Corded", "{amp}-Amp", "Corded Electric", "Electric"], ["corded",
     "plug in"]),
    "Gas": V("Gas", ["Gas", "{cc}cc Gas", "Gas-Powered", "{cc}cc 2-Cycle Gas"], ["gas", "gas powered"]),
}  # fmt: skip
POWER_ATTRIBUTE = {"Cordless": "Battery", "Corded": "Corded Electric", "Gas": "Gas"}

COLORS = {
    v.label: v
    for v in [
        V("Black"), V("Matte Black", family="Black"), V("White"), V("Chrome"), V("Polished Chrome", family="Chrome"),
        V("Brushed Nickel"),
        V("Spot Resist Brushed Nickel", ["Spot Resist Brushed Nickel", "SRS Brushed Nickel"], family="Brushed Nickel"),
        V("Satin Nickel"), V("Oil Rubbed Bronze", ["Oil Rubbed Bronze", "Oil-Rubbed Bronze"], family="Bronze"),
        V("Venetian Bronze", family="Bronze"), V("Champagne Bronze", family="Bronze"),
        V("Stainless Steel", ["Stainless Steel", "Fingerprint Resistant Stainless Steel", "Stainless"],
          ["stainless steel", "stainless"], family="Stainless", fq=["stainless"]),
        V("Black Stainless Steel", ["Black Stainless Steel", "Fingerprint Resistant Black Stainless"],
          ["black stainless", "black stainless steel"]),
        V("Gray", ["Gray", "Grey"], ["gray", "grey"]), V("Red"), V("Blue"), V("Green"), V("Yellow"), V("Orange"),
        V("Brown"), V("Beige", ["Beige", "Tan"], ["beige", "tan"]), V("Polished Brass", family="Brass"),
        V("Satin Brass", family="Brass"), V("Bisque", ["Bisque", "Biscuit"], ["bisque", "biscuit"]), V("Clear"),
        V("Silver"), V("Natural"), V("Dark Walnut", family="Brown"), V("Teal"),
    ]
}  # fmt: skip
PAINT_COLORS = [
    V("Ultra Pure White", family="White"), V("Extra White", family="White"), V("Agreeable Gray", family="Gray",
    fq=["gray", "grey"]), V("Silver Drop", family="Gray", fq=["gray", "grey"]), V("Sandstone Beige", family="Beige"),
    V("Navy Blue", family="Blue"), V("Sky Blue", family="Blue"), V("Hunter Green", family="Green"),
    V("Jet Black", family="Black"), V("Barn Red", family="Red"), V("Sunflower Yellow", family="Yellow"),
]  # fmt: skip
BULB_COLORS = [
    V("Soft White", ["Soft White", "Soft White 2700K", "2700K Soft White"], ["soft white", "warm white"], w=3),
    V("Bright White", ["Bright White", "Bright White 3000K", "3000K"], ["bright white"]),
    V("Daylight", ["Daylight", "Daylight 5000K", "5000K Daylight"], ["daylight", "daylight 5000k"], w=2),
]
MATERIALS = {
    v.label: v
    for v in [
        V("Brass"), V("Solid Brass", family="Brass"), V("Stainless Steel", q=["stainless steel", "stainless"]),
        V("Steel"), V("Galvanized Steel", ["Galvanized Steel", "Galvanized"], ["galvanized", "galvanized steel"]),
        V("Copper"), V("PVC", ["PVC", "PVC Schedule 40", "Sch. 40 PVC"]), V("CPVC"),
        V("PEX", ["PEX", "PEX-A", "PEX-B"]), V("Aluminum", q=["aluminum", "aluminium"]), V("Fiberglass"),
        V("Wood"), V("Hickory", ["Hickory", "Hickory Wood"], family="Wood", fq=["wood", "wooden"]),
        V("Cast Iron"), V("Plastic"), V("Resin"), V("Rubber"), V("Vinyl"), V("Porcelain"), V("Ceramic"),
        V("Fireclay"), V("Granite Composite"), V("Zinc"), V("Titanium", ["Titanium", "Titanium Coated"]),
        V("Cobalt"), V("Carbide", ["Carbide", "Carbide-Tipped"]), V("High Speed Steel", ["High Speed Steel", "HSS"],
        ["high speed steel", "hss"]), V("Wicker", ["Wicker", "All-Weather Wicker", "Resin Wicker"]),
        V("Polypropylene"), V("Silicone", ["Silicone", "100% Silicone"]), V("Acrylic Latex", ["Acrylic Latex",
        "Latex"], ["latex", "acrylic latex"]), V("Polyurethane"), V("Nylon"), V("Polyester"),
        V("Natural Bristle", ["Natural Bristle", "China Bristle"], ["natural bristle"]), V("Teak"), V("Cedar"),
        V("Poly", ["Poly", "Polyethylene", "Polymer"], ["poly", "plastic"]), V("Glass"), V("Bamboo"),
        V("Acrylic"), V("MDF"), V("Composite"), V("Faux Wood"), V("Pine"), V("Douglas Fir", ["Douglas Fir", "Doug Fir"],
        ["douglas fir", "fir"]), V("Birch"), V("Terra Cotta", ["Terra Cotta", "Terracotta"], ["terra cotta",
        "terracotta"]), V("Mineral Wool"), V("Foam"), V("Leather", ["Leather", "Cowhide Leather"]), V("Nitrile"),
        V("Cotton"), V("Laminated Steel"), V("Pressure-Treated Pine", ["Pressure-Treated Pine", "Pressure-Treated"],
        ["pressure treated", "treated"], family="Pine", fq=["pine"]),
    ]
}  # fmt: skip


# --------------------------------------------------------------------------------------------------------------
# Brands: display name, query spellings, battery platform (cordless titles name it) and the power sources made.


@dataclass
class Brand:
    name: str
    query: list[str]
    platform: str = "20V"
    powers: tuple[str, ...] = ("Cordless", "Corded", "Gas")


def _brands(rows: str) -> dict[str, Brand]:
    out = {}
    for row in rows.strip().splitlines():
        parts = [p.strip() for p in row.split("|")]
        name, query = parts[0], [q.strip() for q in parts[1].split(";")] if len(parts) > 1 and parts[1] else None
        platform = parts[2] if len(parts) > 2 and parts[2] else "20V"
        powers = tuple(parts[3].split(",")) if len(parts) > 3 and parts[3] else ("Cordless", "Corded", "Gas")
        out[name] = Brand(name, query or [name.lower()], platform, powers)
    return out


# name | query spellings | battery platform | power sources
BRANDS = _brands("""
DEWALT | dewalt | 20V MAX | Cordless,Corded,Gas
Milwaukee | milwaukee | M18 18V | Cordless,Corded
Makita | makita | 18V LXT | Cordless,Corded,Gas
RYOBI | ryobi | ONE+ 18V | Cordless,Corded,Gas
Bosch | bosch | 18V | Cordless,Corded
RIDGID | ridgid | 18V OCTANE | Cordless,Corded
BLACK+DECKER | black+decker;black and decker;black decker | 20V MAX | Cordless,Corded
Craftsman | craftsman | V20 | Cordless,Corded,Gas
Porter-Cable | porter cable;porter-cable | 20V MAX | Cordless,Corded
Metabo HPT | metabo hpt;metabo | 18V MultiVolt | Cordless,Corded
SKIL | skil | PWRCore 20 | Cordless,Corded
Kobalt | kobalt | 24V MAX | Cordless,Corded
Hart | hart | 20V | Cordless,Corded
WORX | worx | 20V Power Share | Cordless,Corded
EGO | ego | 56V ARC Lithium | Cordless
Greenworks | greenworks | 40V | Cordless,Corded
Husqvarna | husqvarna | 40V | Cordless,Gas
ECHO | echo | 58V eFORCE | Cordless,Gas
Toro | toro | 60V Flex-Force | Cordless,Gas
STIHL | stihl | 36V AK | Cordless,Gas
Sun Joe | sun joe;sunjoe | 24V iON+ | Cordless,Corded
Generac | generac | 20V | Gas
Simpson | simpson | 20V | Gas
Honda | honda | 20V | Gas
Stanley | stanley
Husky | husky
Klein Tools | klein tools;klein
IRWIN | irwin
Estwing | estwing
KNIPEX | knipex
Channellock | channellock
Empire | empire
Crescent | crescent
TEKTON | tekton
GEARWRENCH | gearwrench
Moen | moen
Delta | delta
Kohler | kohler
Pfister | pfister;price pfister
Glacier Bay | glacier bay
American Standard | american standard
Peerless | peerless
Waterpik | waterpik
Charlotte Pipe | charlotte pipe;charlotte
Mueller | mueller
NIBCO | nibco
Apollo | apollo
SharkBite | sharkbite;shark bite
Cerro | cerro
JM Eagle | jm eagle
Everbilt | everbilt
Rheem | rheem
A.O. Smith | ao smith;a.o. smith
Bradford White | bradford white
Rinnai | rinnai
InSinkErator | insinkerator;insinkerator disposal
Waste King | waste king
Leviton | leviton
Lutron | lutron
Eaton | eaton
Legrand | legrand
GE | ge;general electric
Philips | philips
Feit Electric | feit;feit electric
Cree Lighting | cree
EcoSmart | ecosmart
Sylvania | sylvania
Hampton Bay | hampton bay
Home Decorators Collection | home decorators;home decorators collection
Hunter | hunter
Minka-Aire | minka aire;minka-aire
Southwire | southwire
Woods | woods
First Alert | first alert
Kidde | kidde
X-Sense | x-sense;xsense
BEHR | behr
Glidden | glidden
Valspar | valspar
PPG | ppg
Rust-Oleum | rust-oleum;rustoleum;rust oleum
Krylon | krylon
Minwax | minwax
Varathane | varathane
Zinsser | zinsser
Wooster | wooster
Purdy | purdy
Shur-Line | shur-line;shurline
DAP | dap
Gorilla | gorilla
Red Devil | red devil
Loctite | loctite
GRK Fasteners | grk
Simpson Strong-Tie | simpson strong-tie;simpson strong tie
Grip-Rite | grip-rite;griprite
Hillman | hillman
SPAX | spax
Paslode | paslode
Kwikset | kwikset
Schlage | schlage
Defiant | defiant
Baldwin | baldwin
Design House | design house
National Hardware | national hardware
Amerock | amerock
Liberty | liberty
Richelieu | richelieu
Flexzilla | flexzilla
Gilmore | gilmore
Melnor | melnor
Orbit | orbit
Suncast | suncast
Ames | ames
Fiskars | fiskars
True Temper | true temper
Razor-Back | razor-back;razorback
Weber | weber
Char-Broil | char-broil;charbroil;char broil
Nexgrill | nexgrill
Traeger | traeger
Dyna-Glo | dyna-glo;dynaglo
Pit Boss | pit boss
Jackson | jackson
Gorilla Carts | gorilla carts
HDX | hdx
Edsal | edsal
Sterilite | sterilite
Gladiator | gladiator
Keter | keter
Lifeproof | lifeproof
TrafficMaster | trafficmaster;traffic master
Pergo | pergo
Daltile | daltile
MSI | msi
Mohawk | mohawk
Marazzi | marazzi
Samsung | samsung
LG | lg
Whirlpool | whirlpool
Frigidaire | frigidaire
Maytag | maytag
KitchenAid | kitchenaid;kitchen aid
EveryDrop | everydrop;every drop
Filtrete | filtrete
Honeywell | honeywell
Nordic Pure | nordic pure
Lasko | lasko
Vornado | vornado
Dr. Infrared Heater | dr infrared;dr. infrared heater
Comfort Zone | comfort zone
Werner | werner
Little Giant | little giant
Louisville Ladder | louisville ladder;louisville
Gorilla Ladders | gorilla ladders
Bessey | bessey
Pony Jorgensen | pony;jorgensen
Zircon | zircon
Franklin Sensors | franklin
Energizer | energizer
Coast | coast
Maglite | maglite
Rain Bird | rain bird;rainbird
Southern Patio | southern patio
Bloem | bloem
Vigoro | vigoro
Globe Electric | globe electric;globe
Progress Lighting | progress lighting
Kichler | kichler
Sterling | sterling
DreamLine | dreamline
Glacier Bay Bath | glacier bay bath
Cobra | cobra
General Pipe Cleaners | general pipe cleaners
Google Nest | nest;google nest
ecobee | ecobee
Emerson | emerson
hOmeLabs | homelabs
Midea | midea
Masonite | masonite
JELD-WEN | jeld-wen;jeldwen
Weyerhaeuser | weyerhaeuser
Boise Cascade | boise cascade
Columbia Forest Products | columbia forest
USG Sheetrock | usg;sheetrock
Gold Bond | gold bond
CertainTeed | certainteed
Quikrete | quikrete
Sakrete | sakrete
Owens Corning | owens corning
Johns Manville | johns manville
ROCKWOOL | rockwool
Amerimax | amerimax
Raingo | raingo
Genova | genova
3M | 3m
Pyramex | pyramex
Firm Grip | firm grip
Wells Lamont | wells lamont
Scotch | scotch
Duck | duck
FrogTape | frogtape;frog tape
WD-40 | wd-40;wd40
3-IN-ONE | 3-in-one;3 in one
Liquid Wrench | liquid wrench
Cerrowire | cerrowire
Encore Wire | encore wire;encore
Square D | square d
Siemens | siemens
Murray | murray
Ring | ring
Arlo | arlo
Blink | blink
Lorex | lorex
Heath Zenith | heath zenith
Master Lock | master lock;masterlock
ABUS | abus
Brinks | brinks
Gibraltar Mailboxes | gibraltar
Architectural Mailboxes | architectural mailboxes
Outdoor Essentials | outdoor essentials
Veranda | veranda
Barrette | barrette
Levolor | levolor
Bali | bali
""")

POWER_TOOL = ["DEWALT", "Milwaukee", "Makita", "RYOBI", "Bosch", "RIDGID", "BLACK+DECKER", "Craftsman", "Porter-Cable",
              "Metabo HPT", "SKIL", "Kobalt", "Hart", "WORX"]  # fmt: skip
OUTDOOR_POWER = ["EGO", "Greenworks", "RYOBI", "Husqvarna", "ECHO", "Toro", "STIHL", "DEWALT", "Milwaukee", "Makita",
                 "Craftsman", "Sun Joe", "WORX", "Kobalt"]  # fmt: skip
HAND_TOOL = ["Stanley", "Husky", "Klein Tools", "IRWIN", "Estwing", "KNIPEX", "Channellock", "Milwaukee", "DEWALT",
             "Craftsman", "Kobalt", "Empire", "Crescent", "TEKTON", "GEARWRENCH"]  # fmt: skip
FAUCET = [
    "Moen",
    "Delta",
    "Kohler",
    "Pfister",
    "Glacier Bay",
    "American Standard",
    "Peerless",
    "Home Decorators Collection",
]
PIPE = ["Charlotte Pipe", "Mueller", "NIBCO", "Apollo", "SharkBite", "Cerro", "JM Eagle", "Everbilt"]
ELECTRIC = ["Leviton", "Lutron", "Eaton", "Legrand", "GE"]
BULB = ["Philips", "Feit Electric", "Cree Lighting", "GE", "EcoSmart", "Sylvania"]
FAN = ["Hampton Bay", "Home Decorators Collection", "Hunter", "Minka-Aire"]
PAINT = ["BEHR", "Glidden", "Valspar", "PPG"]
FASTENER = ["GRK Fasteners", "Simpson Strong-Tie", "Grip-Rite", "Hillman", "Everbilt", "SPAX", "Paslode"]
DOOR = ["Kwikset", "Schlage", "Defiant", "Baldwin", "Design House", "National Hardware", "Everbilt"]
PULL = ["Amerock", "Liberty", "Richelieu", "Everbilt", "Home Decorators Collection"]
GARDEN = ["Flexzilla", "Gilmore", "Melnor", "Orbit", "Suncast", "Ames", "Fiskars", "True Temper", "Razor-Back"]
GRILL = ["Weber", "Char-Broil", "Nexgrill", "Traeger", "Dyna-Glo", "Pit Boss"]
STORAGE = ["Husky", "HDX", "Edsal", "Sterilite", "Gladiator", "Keter"]
FLOOR = ["Lifeproof", "TrafficMaster", "Pergo", "Mohawk", "Home Decorators Collection"]
TILE = ["Daltile", "MSI", "Marazzi", "TrafficMaster"]
APPLIANCE = ["Samsung", "LG", "Whirlpool", "GE", "Frigidaire", "Maytag", "KitchenAid"]
LADDER = ["Werner", "Little Giant", "Louisville Ladder", "Gorilla Ladders", "Husky"]


# --------------------------------------------------------------------------------------------------------------
# Product types.


@dataclass
class ProductType:
    key: str
    weight: float
    category: str
    nouns: list[str]  # title nouns, most common first
    names: list[str]  # query names: singular, plural, synonyms (unique to this type)
    brands: list[str]
    dims: dict[str, list[Value]]
    pattern: str
    price: tuple[float, float]
    mods: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    desc: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)  # distractor sentences: other types' words


def _values(dim: str, spec) -> list[Value]:
    out = []
    for item in spec:
        if isinstance(item, Value):
            out.append(item)
            continue
        label, _, weight = item.partition("*")
        w = float(weight or 1)
        if dim == "power":
            base = POWER[label]
        elif dim == "color":
            base = COLORS[label]
        elif dim == "material":
            base = MATERIALS[label]
        else:
            base = S(label)
        out.append(Value(base.label, base.title, base.query, base.family, base.family_query, w))
    return out


def T(key, weight, category, nouns, names, brands, dims, pattern, price, mods=(), suffixes=(), desc=(), extras=()):  # noqa: N802
    dims = {dim: _values(dim, spec) for dim, spec in dims.items()}
    return ProductType(key, weight, category, list(nouns), list(names), list(brands), dims, pattern, price, list(mods),
                       list(suffixes), list(desc), list(extras))  # fmt: skip


ROOM = [V("Kitchen", w=1.2), V("Bathroom", ["Bathroom", "Bath"], ["bathroom", "bath"])]
USE = [V("Interior", ["Interior", "Indoor"], ["interior", "indoor"], w=1.5), V("Exterior", ["Exterior", "Outdoor"],
       ["exterior", "outdoor"])]  # fmt: skip
SHEEN = [V("Flat", ["Flat", "Flat Matte"], ["flat", "flat matte"]), V("Eggshell"), V("Satin"),
         V("Semi-Gloss", ["Semi-Gloss", "Semi Gloss"], ["semi-gloss", "semi gloss"]), V("High-Gloss",
         ["High-Gloss", "Gloss"], ["high gloss", "gloss"])]  # fmt: skip
FUEL = [V("Propane", ["Propane", "Propane Gas", "LP Gas"], ["propane"], family="Gas", fq=["gas"], w=2),
        V("Natural Gas", ["Natural Gas", "NG"], ["natural gas"], family="Gas", fq=["gas"]),
        V("Charcoal"), V("Pellet", ["Pellet", "Wood Pellet"], ["pellet", "wood pellet"])]  # fmt: skip
TOOL_SUFFIX = ["Kit", "(Tool-Only)", "Kit with (2) Batteries, Charger and Bag", "", "(Tool Only)"]
CORDLESS_DESC = ["Brushless motor delivers up to 57% longer battery life", "LED light illuminates the work surface",
                 "Compact, lightweight design fits into tight areas"]  # fmt: skip

TYPES = [
    # Power tools
    T("drill", 1.0, "Tools/Power Tools/Drills",
      ["Drill/Driver", "Hammer Drill", "Compact Drill/Driver", "Drill", "Hammer Drill/Driver", "Drill Driver"],
      ["drill", "drills", "power drill", "drill driver"], POWER_TOOL,
      {"power": ["Cordless*4", "Corded"], "size": ["1/2 in.*3", "3/8 in."]},
      "{brand} {power} {mod} {size} {noun} {suffix}", (39, 329),
      ["Brushless", "XR Brushless", "Compact", "2-Speed", "Variable Speed", "Heavy Duty"], TOOL_SUFFIX,
      ["drills into wood, metal and plastic", "2-speed transmission for drilling and driving", *CORDLESS_DESC],
      ["Drill bits sold separately", "Works with all batteries of the platform", "Includes belt clip and bit holder"]),
    T("impact driver", 0.8, "Tools/Power Tools/Impact Drivers",
      ["Impact Driver", "1/4 in. Hex Impact Driver", "Impact Driver Kit", "Brushless Impact Driver"],
      ["impact driver", "impact drivers", "impact drill"], POWER_TOOL,
      {"power": ["Cordless*6", "Corded"]}, "{brand} {power} {mod} {noun} {suffix}", (59, 279),
      ["Brushless", "3-Speed", "Compact", "XR"], TOOL_SUFFIX,
      ["delivers up to 1,800 in-lbs of torque", "quick-release hex chuck", *CORDLESS_DESC],
      ["Pairs with impact-rated drill bits and driver bits", "Faster than a standard drill for long screws"]),
    T("circular saw", 0.7, "Tools/Power Tools/Saws/Circular Saws",
      ["Circular Saw", "Circular Saw Kit", "Sidewinder Circular Saw", "Worm Drive Circular Saw", "Circ Saw"],
      ["circular saw", "circular saws", "circ saw", "skill saw"], POWER_TOOL,
      {"power": ["Cordless*2", "Corded*2"], "size": ["7-1/4 in.*3", "6-1/2 in.*2", "5-1/2 in."]},
      "{brand} {power} {size} {mod} {noun} {suffix}", (49, 259), ["Brushless", "Lightweight", "Magnesium"],
      TOOL_SUFFIX, ["bevels to 56 degrees", "cuts 2x lumber in a single pass", "electric brake stops the blade"],
      ["Includes 24-tooth carbide blade", "Rip fence included", "Blade wrench stored in the handle"]),
    T("miter saw", 0.45, "Tools/Power Tools/Saws/Miter Saws",
      ["Miter Saw", "Compound Miter Saw", "Sliding Compound Miter Saw", "Dual-Bevel Sliding Miter Saw",
       "Mitre Saw"], ["miter saw", "miter saws", "mitre saw", "chop saw"], POWER_TOOL,
      {"power": ["Corded*3", "Cordless"], "size": ["10 in.*2", "12 in.*2", "7-1/4 in."]},
      "{brand} {power} {size} {mod} {noun} {suffix}", (129, 699), ["Dual-Bevel", "Single-Bevel", "Brushless"],
      ["", "with Laser", "with LED Cutline", "(Tool-Only)"],
      ["accurate miter detent plate", "crosscuts 2x12 at 90 degrees", "tall sliding fences"],
      ["Stand sold separately", "Dust bag included"]),
    T("jigsaw", 0.45, "Tools/Power Tools/Saws/Jig Saws",
      ["Jig Saw", "Jigsaw", "Top-Handle Jig Saw", "Barrel Grip Jig Saw", "Orbital Jig Saw"],
      ["jigsaw", "jigsaws", "jig saw"], POWER_TOOL, {"power": ["Cordless*2", "Corded*2"]},
      "{brand} {power} {mod} {noun} {suffix}", (39, 229), ["Variable Speed", "Brushless", "Orbital Action"],
      TOOL_SUFFIX, ["makes curved and straight cuts", "tool-free blade change", "4-position orbital action"],
      ["Blades sold separately", "Cuts wood, metal and laminate"]),
    T("reciprocating saw", 0.5, "Tools/Power Tools/Saws/Reciprocating Saws",
      ["Reciprocating Saw", "Compact Reciprocating Saw", "One-Handed Reciprocating Saw", "Recip Saw"],
      ["reciprocating saw", "reciprocating saws", "recip saw", "sawzall"], POWER_TOOL,
      {"power": ["Cordless*3", "Corded*2"]}, "{brand} {power} {mod} {noun} {suffix}", (49, 299),
      ["Brushless", "Variable Speed", "Orbital"], TOOL_SUFFIX,
      ["4-position blade clamp", "1-1/8 in. stroke length", "demolition and remodel cutting"],
      ["Accepts all reciprocating saw blades", "Great for demolition work"]),
    T("angle grinder", 0.5, "Tools/Power Tools/Grinders",
      ["Angle Grinder", "Small Angle Grinder", "Grinder", "Paddle Switch Angle Grinder", "Cut-Off Tool"],
      ["angle grinder", "angle grinders", "grinder"], POWER_TOOL,
      {"power": ["Corded*3", "Cordless*2"], "size": ["4-1/2 in.*3", "5 in.", "7 in."]},
      "{brand} {power} {size} {mod} {noun} {suffix}", (29, 249), ["Brushless", "Slide Switch", "Variable Speed"],
      TOOL_SUFFIX, ["spindle lock for fast wheel changes", "adjustable guard", "grinds, cuts and polishes metal"],
      ["Grinding wheel included", "Use with cut-off wheels and wire brushes"]),
    T("sander", 0.55, "Tools/Power Tools/Sanders",
      ["Random Orbit Sander", "Random Orbital Sander", "Orbital Sander", "Palm Sander", "Sheet Sander",
       "Detail Sander"], ["sander", "sanders", "electric sander", "power sander"], POWER_TOOL,
      {"power": ["Corded*3", "Cordless*2"], "size": ["5 in.*3", "6 in."]},
       "{brand} {power} {size} {mod} {noun} {suffix}",
      (29, 199), ["Variable Speed", "Low Vibration", "Brushless"], TOOL_SUFFIX,
      ["hook-and-loop pad for fast paper changes", "dust-sealed switch", "smooth finish on wood"],
      ["Sandpaper sold separately", "Dust bag and vacuum adapter included"]),
    T("tile saw", 0.2, "Tools/Power Tools/Saws/Tile Saws",
      ["Wet Tile Saw", "Tile Saw", "Wet Tile Saw with Stand", "Portable Tile Saw"], ["tile saw", "tile saws",
      "wet saw"], POWER_TOOL + ["Husky"], {"power": ["Corded*5", "Cordless"], "size": ["7 in.*2", "10 in."]},
      "{brand} {power} {size} {noun} {suffix}", (99, 899), ["Sliding Table", "Portable"], ["", "with Stand"],
      ["cuts ceramic, porcelain and stone", "water reservoir keeps the blade cool"],
      ["Diamond blade included", "Ideal for floor tile and wall tile"]),
    # Outdoor power
    T("lawn mower", 0.7, "Outdoors/Outdoor Power Equipment/Lawn Mowers",
      ["Lawn Mower", "Push Lawn Mower", "Self-Propelled Lawn Mower", "Walk-Behind Mower", "Push Mower",
       "Walk Behind Self Propelled Mower"], ["lawn mower", "lawn mowers", "mower", "lawnmower"],
        OUTDOOR_POWER + ["Honda"],
      {"power": ["Gas*3", "Cordless*3", "Corded"], "size": ["21 in.*4", "20 in.*2", "30 in.", "16 in."]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (149, 899), ["Brushless", "3-in-1", "Dual Blade", "Mulching"],
      ["", "with Bagger", "(Battery and Charger Included)", "Kit"],
      ["mulch, bag or side discharge", "height adjustment with a single lever", "cuts a wide path"],
      ["Replacement mower blade sold separately", "Compatible with mulching blade kits"]),
    T("leaf blower", 0.7, "Outdoors/Outdoor Power Equipment/Leaf Blowers",
      ["Leaf Blower", "Handheld Leaf Blower", "Backpack Leaf Blower", "Jet Fan Blower", "Axial Blower",
       "Handheld Blower"], ["leaf blower", "leaf blowers", "blower"], OUTDOOR_POWER,
      {"power": ["Cordless*4", "Gas*2", "Corded"]}, "{brand} {power} {mod} {noun} {suffix}", (49, 499),
      ["650 CFM", "500 CFM", "Variable Speed", "Brushless", "Turbo"], ["", "Kit", "(Tool Only)", "with Vacuum Kit"],
      ["clears leaves and debris from driveways and decks", "cruise control for constant speed"],
      ["Rake and bag sold separately", "Blows leaves from the lawn and gutters"]),
    T("chainsaw", 0.5, "Outdoors/Outdoor Power Equipment/Chainsaws",
      ["Chainsaw", "Chain Saw", "Rear Handle Chainsaw", "Top Handle Chainsaw", "Pruning Chainsaw"],
      ["chainsaw", "chainsaws", "chain saw"], OUTDOOR_POWER,
      {"power": ["Gas*3", "Cordless*3", "Corded"], "size": ["16 in.*3", "18 in.*2", "14 in.", "20 in."]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (79, 599), ["Brushless", "Tool-Less Chain Tensioning"],
      ["", "Kit", "(Tool Only)"], ["cuts through firewood and fallen trees", "automatic chain oiler"],
      ["Replacement chain and bar oil sold separately", "Cuts limbs and small trees"]),
    T("string trimmer", 0.6, "Outdoors/Outdoor Power Equipment/String Trimmers",
      ["String Trimmer", "Straight Shaft String Trimmer", "Curved Shaft Trimmer", "Grass Trimmer",
       "Weed Trimmer", "String Trimmer/Edger"], ["string trimmer", "string trimmers", "weed eater", "weed wacker"],
      OUTDOOR_POWER, {"power": ["Cordless*4", "Gas*3", "Corded"]}, "{brand} {power} {mod} {noun} {suffix}",
      (49, 399), ["Brushless", "Attachment Capable", "Straight Shaft", "15 in."], ["", "Kit", "(Tool Only)"],
      ["bump feed trimmer head", "converts to an edger"],
      ["Trimmer line sold separately", "Trims grass along fences and walkways"]),
    T("hedge trimmer", 0.35, "Outdoors/Outdoor Power Equipment/Hedge Trimmers",
      ["Hedge Trimmer", "Dual Action Hedge Trimmer", "Pole Hedge Trimmer", "Hedge Cutter"],
      ["hedge trimmer", "hedge trimmers", "hedge cutter", "bush trimmer"], OUTDOOR_POWER,
      {"power": ["Cordless*4", "Gas", "Corded*2"], "size": ["22 in.*2", "24 in.*2", "26 in."]},
      "{brand} {power} {size} {mod} {noun} {suffix}", (49, 349), ["Dual Action", "Brushless"], ["", "Kit",
       "(Tool Only)"],
      ["laser-cut blades shape shrubs", "rotating rear handle"], ["Not a string trimmer: cuts branches up to 3/4 in."]),
    T("pressure washer", 0.4, "Outdoors/Outdoor Power Equipment/Pressure Washers",
      ["Pressure Washer", "Power Washer", "Cold Water Pressure Washer", "Surface Cleaner Pressure Washer"],
      ["pressure washer", "pressure washers", "power washer"], OUTDOOR_POWER + ["Generac", "Simpson"],
      {"power": ["Gas*3", "Corded*3", "Cordless"], "size": ["2000 PSI*2", "3100 PSI*2", "3600 PSI", "1800 PSI"]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (99, 699), ["1.2 GPM", "2.5 GPM", "Cold Water"],
      ["", "with 5 Nozzles", "with Surface Cleaner"], ["cleans decks, siding and driveways", "quick-connect nozzles"],
      ["Garden hose sold separately", "Connects to any standard garden hose"]),
    T("shop vac", 0.45, "Tools/Shop Vacuums",
      ["Wet/Dry Vac", "Wet/Dry Vacuum", "Shop Vacuum", "Wet Dry Shop Vac", "Portable Wet/Dry Vac"],
      ["shop vac", "shop vacs", "wet dry vac", "shop vacuum"], ["RIDGID", "Craftsman", "DEWALT", "Milwaukee",
      "Husky", "HDX", "Makita", "RYOBI"],
      {"power": ["Corded*4", "Cordless*2"], "size": ["6 gal.", "12 gal.*2", "16 gal.*2", "9 gal."]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (49, 249), ["5.0-Peak HP", "6.5-Peak HP", "NXT",
       "Stainless Steel"],
      ["", "with Filter, Hose and Accessories", "(Tool Only)"], ["vacuums up wet and dry messes", "blower port"],
      ["Replacement filter sold separately", "Works as a leaf blower with the blower port"]),
    # Hand tools
    T("hammer", 0.7, "Tools/Hand Tools/Hammers",
      ["Hammer", "Claw Hammer", "Framing Hammer", "Rip Claw Hammer", "Curved Claw Hammer", "Finishing Hammer"],
      ["hammer", "hammers", "claw hammer"], HAND_TOOL,
      {"material": ["Steel*3", "Fiberglass*2", "Hickory*2", "Titanium"], "size": ["16 oz.*3", "20 oz.*2", "22 oz."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (9, 129), ["Smooth Face", "Milled Face", "Anti-Vibe"],
      ["", "with Shock Reduction Grip"], ["one-piece forged head", "magnetic nail starter"],
      ["Not a hammer drill", "Drives and pulls nails"]),
    T("screwdriver", 0.6, "Tools/Hand Tools/Screwdrivers",
      ["Screwdriver Set", "Screwdriver", "Multi-Bit Screwdriver", "Precision Screwdriver Set",
       "Phillips and Slotted Screwdriver Set"], ["screwdriver", "screwdrivers", "screwdriver set"], HAND_TOOL,
      {"size": ["6-Piece*2", "10-Piece*2", "1-Piece", "14-Piece"]}, "{brand} {size} {mod} {noun} {suffix}", (7, 89),
      ["Cushion Grip", "Magnetic Tip", "11-in-1", "Insulated"], ["", "with Carrying Bag"],
      ["hardened tips resist cam-out", "cushion-grip handles"], ["For driving screws by hand; not a power drill"]),
    T("wrench", 0.6, "Tools/Hand Tools/Wrenches",
      ["Adjustable Wrench", "Combination Wrench Set", "Pipe Wrench", "Ratcheting Wrench Set", "Wrench Set",
       "Wrench"], ["wrench", "wrenches", "spanner", "wrench set"], HAND_TOOL,
      {"material": ["Steel*3", "Aluminum", "Cast Iron"],
       "size": ["8 in.*2", "10 in.*2", "12 in.", "18 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (9, 149), ["SAE", "Metric", "Wide Jaw", "Heavy Duty"],
      ["", "(2-Piece)", "Set"], ["tightens and loosens nuts and bolts", "laser-etched scale"],
      ["Complements any socket set", "Fits pipe fittings and plumbing nuts"]),
    T("socket set", 0.45, "Tools/Hand Tools/Socket Sets",
      ["Socket Set", "Mechanics Tool Set", "Drive Socket Set", "Ratchet and Socket Set", "Socket Wrench Set"],
      ["socket set", "socket sets", "mechanics tool set", "ratchet set"], HAND_TOOL,
      {"size": ["1/4 in.*2", "3/8 in.*3", "1/2 in.*2"]}, "{brand} {size} Drive {mod} {noun} {suffix}", (19, 299),
      ["SAE and Metric", "72-Tooth", "Chrome", "90-Tooth"], ["", "(123-Piece)", "(56-Piece)", "(230-Piece)"],
      ["quick-release ratchet", "full polish chrome finish"], ["Carrying tray included", "Works with impact adapters"]),
    T("pliers", 0.5, "Tools/Hand Tools/Pliers",
      ["Pliers", "Slip Joint Pliers", "Needle Nose Pliers", "Locking Pliers", "Tongue and Groove Pliers",
       "Lineman's Pliers"], ["pliers", "plier", "pliers set"], HAND_TOOL,
      {"size": ["6 in.*2", "8 in.*2", "10 in.*2", "12 in."]}, "{brand} {size} {mod} {noun} {suffix}", (8, 79),
      ["Comfort Grip", "Heavy Duty", "Long Nose"], ["", "Set (3-Piece)"], ["induction-hardened cutting edges"],
      ["Cuts wire", "Grips pipe and nuts"]),
    T("tape measure", 0.5, "Tools/Hand Tools/Measuring Tools/Tape Measures",
      ["Tape Measure", "Tape Rule", "Measuring Tape", "Magnetic Tape Measure", "Compact Tape Measure"],
      ["tape measure", "tape measures", "measuring tape"], HAND_TOOL,
      {"size": ["25 ft.*4", "16 ft.*2", "30 ft.", "35 ft."]}, "{brand} {size} {mod} {noun} {suffix}", (5, 39),
      ["Magnetic", "Wide Blade", "Auto Lock", "Fractional"], ["", "(2-Pack)"],
      ["blade coating resists wear", "13 ft. standout"], ["Clip fits any belt or tool bag"]),
    T("level", 0.4, "Tools/Hand Tools/Measuring Tools/Levels",
      ["Level", "Torpedo Level", "Box Beam Level", "I-Beam Level", "Spirit Level", "Magnetic Torpedo Level"],
      ["level", "levels", "spirit level"], HAND_TOOL,
      {"material": ["Aluminum*3", "Plastic"], "size": ["9 in.*2", "24 in.*2", "48 in.*2", "72 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (6, 149), ["Magnetic", "High Visibility"], [""],
      ["solid-block vials accurate to 0.0005 in./in.", "shock-absorbing end caps"],
      ["Not a laser level", "Pro-level accuracy"]),
    T("utility knife", 0.45, "Tools/Hand Tools/Utility Knives",
      ["Utility Knife", "Folding Utility Knife", "Retractable Utility Knife", "Box Cutter", "Snap-Off Knife"],
      ["utility knife", "utility knives", "box cutter"], HAND_TOOL,
      {"material": ["Aluminum*2", "Plastic", "Zinc"]}, "{brand} {material} {mod} {noun} {suffix}", (4, 39),
      ["Quick-Change", "Folding", "Auto-Retract"], ["", "with 5 Blades", "(2-Pack)"],
      ["tool-free blade change", "blade storage in the handle"], ["Cuts drywall, carpet and cardboard"]),
    T("tool box", 0.55, "Storage & Organization/Tool Storage/Tool Boxes",
      ["Tool Box", "Toolbox", "Rolling Tool Box", "Tool Chest", "Portable Tool Box", "Tool Storage Box"],
      ["tool box", "tool boxes", "toolbox", "tool chest"], ["Husky", "Milwaukee", "DEWALT", "Stanley", "Keter",
      "Craftsman", "RIDGID"], {"material": ["Plastic*3", "Steel*2", "Aluminum"],
      "color": ["Black*3", "Red*2", "Yellow", "Gray"], "size": ["19 in.", "22 in.*2", "26 in.", "41 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix} {in_color}", (19, 499), ["Rolling", "Modular", "Waterproof"],
      ["", "with Removable Tray"], ["metal latches", "removable tray organizes small parts"],
      ["Holds drills, saws and hand tools", "Hammer-tone finish"]),
    T("ladder", 0.55, "Building Materials/Ladders",
      ["Step Ladder", "Extension Ladder", "Multi-Position Ladder", "Ladder", "Step Stool Ladder",
       "Podium Ladder"], ["ladder", "ladders"], LADDER,
      {"material": ["Aluminum*3", "Fiberglass*3"], "size": ["4 ft.", "6 ft.*3", "8 ft.*2", "12 ft.", "24 ft."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (49, 499),
      ["Type IA", "Type II", "300 lb. Load Capacity", "225 lb. Load Capacity"], [""],
      ["slip-resistant steps", "pail shelf holds paint"], ["Not for use as a shelf", "Reach high ceilings"]),
    # Plumbing
    T("faucet", 0.9, "Bath & Kitchen/Faucets",
      ["Faucet", "Pull-Down Faucet", "Single-Handle Faucet", "Widespread Faucet", "Centerset Faucet",
       "Pull-Down Sprayer Faucet", "Tap"], ["faucet", "faucets", "tap"], FAUCET,
      {"room": ROOM, "color": ["Chrome*3", "Polished Chrome", "Brushed Nickel*2", "Spot Resist Brushed Nickel*2",
       "Matte Black*2", "Black", "Oil Rubbed Bronze", "Venetian Bronze", "Stainless Steel", "Champagne Bronze"],
       "material": ["Brass*3", "Solid Brass", "Zinc", "Plastic"]},
      "{brand} {mod} {room} {noun} {suffix} {in_color}", (39, 499),
      ["Arbor", "Essie", "Leland", "Touchless", "High-Arc", "2-Handle", "Single-Handle", "Motionsense", "Bellera"],
      ["", "with Soap Dispenser", "with Deck Plate", "(Valve Included)"],
      ["Duralast cartridge for drip-free performance", "ceramic disc valve", "reflex docking system"],
      ["Uses replacement cartridge 1225", "Drain assembly included", "Connects to standard supply lines"]),
    T("faucet cartridge", 0.4, "Plumbing/Plumbing Parts/Faucet Parts",
      ["Faucet Cartridge", "Replacement Cartridge", "Faucet Repair Kit", "Faucet Aerator", "Faucet Stem",
       "Cartridge"], ["faucet parts", "faucet repair parts", "faucet repair kit"], FAUCET + ["Everbilt"],
      {"material": ["Brass*2", "Plastic*2", "Ceramic"]}, "{brand} {material} {mod} {noun} {suffix}", (4, 49),
      ["1225", "RP46074", "Single-Handle", "1222"], ["", "for Moen Faucets", "for Delta Faucets", "(2-Pack)"],
      ["stops a dripping faucet", "fits single-handle kitchen faucets and bathroom faucets"],
      ["Not a faucet: a replacement part", "Restores water flow to your tap"]),
    T("shower head", 0.6, "Bath & Kitchen/Bathroom/Shower Heads",
      ["Shower Head", "Showerhead", "Rain Shower Head", "Handheld Shower Head", "Dual Shower Head",
       "Fixed Shower Head"], ["shower head", "shower heads", "showerhead"], FAUCET + ["Waterpik"],
      {"color": ["Chrome*4", "Brushed Nickel*2", "Matte Black*2", "Oil Rubbed Bronze"],
       "size": ["6 in.", "8 in.*2", "10 in.", "12 in."]},
      "{brand} {mod} {size} {noun} {suffix} {in_color}", (19, 299), ["5-Spray", "3-Spray", "Magnetix", "H2Okinetic"],
      ["", "1.8 GPM", "2.5 GPM"], ["tool-free installation", "rub-clean nozzles"],
      ["Not a faucet", "Works with any standard shower arm"]),
    T("toilet", 0.7, "Bath & Kitchen/Bathroom/Toilets",
      ["Toilet", "2-Piece Toilet", "One-Piece Toilet", "Elongated Toilet", "Round Front Toilet",
       "Comfort Height Toilet", "Smart Toilet"], ["toilet", "toilets", "commode"],
      ["American Standard", "Kohler", "Glacier Bay", "Delta", "Pfister", "Home Decorators Collection"],
      {"color": ["White*6", "Bisque*2", "Black"], "size": ["1.28 GPF*3", "1.6 GPF", "1.1 GPF"]},
      "{brand} {mod} {noun} {size} {suffix} {in_color}", (99, 899), ["Cadet", "Champion", "Highline", "Elongated"],
      ["", "with Slow-Close Seat", "(Seat Not Included)"], ["powerful single flush", "vitreous china bowl"],
      ["Toilet seat sold separately", "Wax ring and bolts included"]),
    T("toilet seat", 0.4, "Bath & Kitchen/Bathroom/Toilet Seats",
      ["Toilet Seat", "Elongated Toilet Seat", "Round Toilet Seat", "Slow-Close Toilet Seat",
       "Closed Front Toilet Seat"], ["toilet seat", "toilet seats"],
      ["American Standard", "Kohler", "Glacier Bay", "Everbilt", "Home Decorators Collection"],
      {"material": ["Plastic*3", "Wood*2"], "color": ["White*5", "Bisque", "Black", "Natural"]},
      "{brand} {material} {mod} {noun} {suffix} {in_color}", (14, 99), ["Slow-Close", "Quick-Release"],
      [""], ["never loosens hinges", "easy-clean"], ["Fits most elongated toilets", "Not a toilet"]),
    T("toilet repair", 0.35, "Plumbing/Plumbing Parts/Toilet Parts",
      ["Toilet Flapper", "Toilet Fill Valve", "Toilet Repair Kit", "Flush Valve", "Toilet Tank Repair Kit"],
      ["toilet repair kit", "toilet repair kits", "toilet parts", "toilet tank parts"], ["Everbilt", "Kohler",
      "American Standard", "Glacier Bay", "Moen"],
      {"size": ["2 in.*2", "3 in.*2"]}, "{brand} {size} {mod} {noun} {suffix}", (4, 39), ["Universal", "Adjustable"],
      ["", "(2-Pack)"], ["stops a leaking toilet tank", "fits most 2-piece toilets"],
      ["Not a toilet", "Saves water"]),
    T("pipe", 1.1, "Plumbing/Pipe/Pipes",
      ["Pipe", "Pipe Type M", "Pipe Type L", "Tubing", "Schedule 40 Pipe", "Plain End Pipe", "Pipe Type K"],
      ["pipe", "pipes", "tubing", "plumbing pipe"], PIPE,
      {"material": ["Copper*3", "PVC*3", "PEX*2", "CPVC", "Galvanized Steel"],
       "size": ["1/2 in.*3", "3/4 in.*3", "1 in.", "1-1/2 in.", "2 in."]},
      "{brand} {size} x {length} {material} {noun} {suffix}", (2, 299), [], ["", "(5-Pack)"],
      ["for potable water", "NSF certified", "for drain, waste and vent lines"],
      ["Use with matching fittings", "Pipe cutter sold separately"]),
    T("pipe fitting", 0.8, "Plumbing/Pipe Fittings",
      ["90-Degree Elbow", "45-Degree Elbow", "Tee", "Coupling", "Cap", "Reducer", "Push-to-Connect Coupling",
       "Fitting", "Adapter"], ["pipe fitting", "pipe fittings", "elbow", "coupling"], PIPE,
      {"material": ["Copper*3", "PVC*3", "Brass*2", "PEX", "Galvanized Steel"],
       "size": ["1/2 in.*3", "3/4 in.*3", "1 in.", "2 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (1, 39), ["Sweat", "Slip", "FIP", "MIP", "Push-to-Connect"],
      ["", "(10-Pack)", "(25-Pack)"], ["joins lengths of pipe", "lead-free"],
      ["Fits copper pipe, PEX pipe and CPVC pipe", "For use with 1/2 in. pipe"]),
    T("water heater", 0.35, "Plumbing/Water Heaters",
      ["Water Heater", "Tank Water Heater", "Tankless Water Heater", "Short Water Heater", "Tall Water Heater"],
      ["water heater", "water heaters", "hot water heater", "hot water tank"], ["Rheem", "A.O. Smith",
      "Bradford White", "Rinnai", "GE"],
      {"fuel": [V("Natural Gas", ["Natural Gas", "Gas"], ["gas", "natural gas"], w=2),
                V("Electric", ["Electric", "240-Volt Electric"], ["electric"], w=2),
                V("Liquid Propane", ["Liquid Propane", "Propane"], ["propane"])],
       "size": ["40 gal.*3", "50 gal.*3", "30 gal.", "80 gal."]},
      "{brand} {mod} {size} {fuel} {noun} {suffix}", (399, 1999), ["Performance", "ProLine", "Signature"],
      ["", "with 6-Year Warranty", "with 9-Year Warranty"], ["self-cleaning dip tube", "high recovery"],
      ["Not a space heater", "Expansion tank sold separately"]),
    T("sink", 0.5, "Bath & Kitchen/Sinks",
      ["Sink", "Undermount Sink", "Drop-In Sink", "Farmhouse Sink", "Vessel Sink", "Double Bowl Sink",
       "Single Bowl Sink"], ["sink", "sinks", "basin"], FAUCET + ["Kohler"],
      {"room": ROOM, "material": ["Stainless Steel*4", "Porcelain*2", "Fireclay", "Granite Composite", "Cast Iron"]},
      "{brand} {material} {mod} {size} {room} {noun} {suffix}", (79, 899), ["18-Gauge", "16-Gauge", "Workstation"],
      ["", "with Faucet", "in White"], ["sound-deadening pads", "scratch-resistant"],
      ["Faucet sold separately", "Garbage disposal ready"]),
    T("garbage disposal", 0.3, "Bath & Kitchen/Kitchen/Garbage Disposals",
      ["Garbage Disposal", "Disposal", "Continuous Feed Garbage Disposal", "Batch Feed Garbage Disposal",
       "Waste Disposer"], ["garbage disposal", "garbage disposals", "disposal"], ["InSinkErator", "Waste King",
      "Moen", "GE"], {"size": ["1/2 HP*2", "3/4 HP*2", "1/3 HP", "1 HP"]},
      "{brand} {mod} {size} {noun} {suffix}", (79, 399), ["Badger 5", "Evolution", "Legend", "Prep Series"],
      ["", "with Power Cord"], ["grinds kitchen scraps", "quiet operation"],
      ["Fits standard sink drains", "Cord kit sold separately"]),
    # Electrical and lighting
    T("light bulb", 1.0, "Electrical/Light Bulbs",
      ["LED Light Bulb", "Light Bulb", "LED Bulb", "A19 LED Light Bulb", "BR30 LED Light Bulb",
       "Dimmable LED Light Bulb", "Bulbs"], ["light bulb", "light bulbs", "led bulb", "bulb"], BULB,
      {"color": BULB_COLORS, "size": ["60W*4", "40W", "75W*2", "100W*2", "65W"]},
      "{brand} {size} {mod} {noun} {color} {suffix}", (2, 39), ["Dimmable", "Non-Dimmable", "A19", "BR30", "E26"],
      ["", "(4-Pack)", "(8-Pack)", "(2-Pack)", "(16-Pack)"], ["lasts up to 13.7 years", "uses 85% less energy"],
      ["For ceiling fans and table lamps", "Not compatible with some dimmer switches"]),
    T("ceiling fan", 0.6, "Lighting/Ceiling Fans",
      ["Ceiling Fan", "Ceiling Fan with Light", "Smart Ceiling Fan", "Flush Mount Ceiling Fan",
       "Low Profile Ceiling Fan"], ["ceiling fan", "ceiling fans", "fan"], FAN,
      {"color": ["White*2", "Matte Black*2", "Brushed Nickel*2", "Oil Rubbed Bronze", "Dark Walnut", "Natural"],
       "size": ["44 in.", "52 in.*3", "60 in.*2", "42 in."], "use": USE},
      "{brand} {mod} {size} {use} {noun} {suffix} {in_color}", (49, 499), ["Glendale", "Windward", "Trice", "LED"],
      ["", "with Remote Control", "with LED Light Kit"], ["reversible motor", "5 reversible blades"],
      ["Light bulbs included", "Works with a wall switch"]),
    T("flush mount light", 0.5, "Lighting/Ceiling Lights/Flush Mount Lights",
      ["Flush Mount Light", "Flush Mount", "Semi-Flush Mount Light", "LED Flush Mount", "Ceiling Light",
       "Ceiling Light Fixture"], ["flush mount light", "flush mount lights", "flush mount"],
      FAN + ["Hampton Bay"], {"color": ["White*3", "Brushed Nickel*2", "Matte Black*2", "Oil Rubbed Bronze",
      "Chrome"], "size": ["11 in.*2", "13 in.*2", "15 in."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (14, 199), ["LED", "Dimmable", "1-Light", "2-Light"],
      ["", "with Frosted Glass Shade"], ["integrated LED", "easy install"], ["Bulbs not included",
       "Not a ceiling fan"]),
    T("extension cord", 0.5, "Electrical/Extension Cords",
      ["Extension Cord", "Outdoor Extension Cord", "Indoor Extension Cord", "Heavy Duty Extension Cord",
       "Lighted Extension Cord"], ["extension cord", "extension cords", "power cord"],
      ["Southwire", "Woods", "Husky", "GE", "HDX"],
      {"size": ["25 ft.*2", "50 ft.*3", "100 ft.*2", "6 ft."], "color": ["Orange*3", "Yellow*2", "Green", "Black",
       "White"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (5, 99), ["12/3", "14/3", "16/3", "SJTW"],
      ["", "(2-Pack)"], ["lighted end shows power is on", "weather-resistant vinyl sheath"],
      ["Powers drills, saws and corded tools", "Not a power strip"]),
    T("outlet", 0.6, "Electrical/Wiring Devices/Outlets",
      ["Outlet", "Duplex Receptacle", "GFCI Outlet", "Tamper-Resistant Outlet", "USB Outlet", "Receptacle"],
      ["outlet", "outlets", "receptacle", "electrical outlet"], ELECTRIC,
      {"color": ["White*5", "Black", "Beige", "Gray"], "size": ["15 Amp*3", "20 Amp*2"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (1, 39), ["Tamper-Resistant", "Decora", "Self-Test"],
      ["", "(10-Pack)", "(3-Pack)"], ["residential grade", "easy push-in wiring"],
      ["Wall plate sold separately", "Works with light switch combos"]),
    T("light switch", 0.55, "Electrical/Wiring Devices/Light Switches",
      ["Light Switch", "Single-Pole Switch", "Rocker Switch", "Toggle Switch", "Dimmer Switch", "3-Way Switch",
       "Smart Switch"], ["light switch", "light switches", "switch"], ELECTRIC,
      {"color": ["White*5", "Black", "Beige", "Gray"]}, "{brand} {mod} {noun} {suffix} {in_color}", (2, 59),
      ["Decora", "Single-Pole", "3-Way", "LED"], ["", "(10-Pack)"], ["quiet rocker", "for LED and incandescent bulbs"],
      ["Not an outlet", "Controls ceiling lights and fans"]),
    T("smoke detector", 0.35, "Electrical/Safety/Smoke Detectors",
      ["Smoke Detector", "Smoke Alarm", "Smoke and Carbon Monoxide Detector", "Combination Smoke Alarm",
       "Photoelectric Smoke Detector"], ["smoke detector", "smoke detectors", "smoke alarm", "fire alarm"],
      ["First Alert", "Kidde", "X-Sense"],
      {"power": [V("Battery", ["Battery-Operated", "Battery Powered", "10-Year Battery"], ["battery",
       "battery operated"], w=2), V("Hardwired", ["Hardwired", "Hardwire", "120V AC"], ["hardwired", "hardwire"])]},
      "{brand} {power} {noun} {suffix}", (9, 79), ["Photoelectric", "Ionization", "Voice Alarm"],
      ["", "(2-Pack)", "(3-Pack)"], ["loud 85 dB alarm", "test button"], ["Not a carbon filter"]),
    # Paint
    T("paint", 0.9, "Paint/Interior & Exterior Paint",
      ["Paint and Primer", "Paint & Primer in One", "Paint", "Latex Paint", "Paint with Primer"],
      ["paint", "paints", "wall paint"], PAINT,
      {"use": USE, "sheen": SHEEN, "color": PAINT_COLORS, "size": ["1 gal.*4", "5 gal.*2", "1 qt.*2"]},
      "{brand} {mod} {size} {color} {sheen} {use} {noun} {suffix}", (9, 249), ["Premium Plus", "Ultra",
      "Marquee", "Diamond", "Signature"], [""], ["one-coat hide", "stain-blocking", "low VOC"],
      ["Apply with a brush, roller or sprayer", "Primer not required"]),
    T("spray paint", 0.6, "Paint/Spray Paint",
      ["Spray Paint", "Enamel Spray Paint", "Aerosol Spray Paint", "Paint + Primer Spray Paint",
       "Protective Enamel"], ["spray paint", "spray paints", "aerosol paint"], ["Rust-Oleum", "Krylon", "Valspar"],
      {"color": ["Black*3", "White*3", "Gray", "Red*2", "Blue", "Green", "Yellow", "Silver", "Clear",
       "Oil Rubbed Bronze"],
       "sheen": SHEEN},
      "{brand} {size} {mod} {sheen} {color} {noun} {suffix}", (4, 19), ["Painter's Touch 2X", "Stops Rust",
      "ColorMaxx", "Universal"], ["", "(6-Pack)"], ["dries to the touch in 20 minutes", "any-angle spray"],
      ["Not for interior walls", "Use on wood, metal and plastic"]),
    T("wood stain", 0.45, "Paint/Stains/Wood Stains",
      ["Wood Stain", "Oil-Based Wood Stain", "Semi-Transparent Stain", "Solid Color Stain", "Penetrating Stain"],
       ["wood stain", "wood stains", "stain"],
      ["Minwax", "Varathane", "BEHR", "Rust-Oleum", "Valspar"],
      {"color": ["Dark Walnut*2", "Natural*2", "Brown*2", "Gray", "Red"], "use": USE, "size": ["1 qt.*3", "1 gal.*2"]},
      "{brand} {size} {color} {mod} {use} {noun} {suffix}", (7, 69), ["Penetrating", "Fast Dry", "Weatherproof"],
      [""], ["enhances wood grain", "one-coat coverage"], ["Not a paint", "Brush included"]),
    T("paint brush", 0.45, "Paint/Paint Tools/Paint Brushes",
      ["Paint Brush", "Angled Sash Brush", "Flat Paint Brush", "Angle Sash Paint Brush", "Trim Brush"],
      ["paint brush", "paint brushes", "paintbrush"], ["Wooster", "Purdy", "Shur-Line", "BEHR"],
      {"size": ["2 in.*2", "2-1/2 in.*3", "3 in.", "1-1/2 in."], "material": ["Nylon*2", "Polyester*2",
      "Natural Bristle"]}, "{brand} {size} {material} {mod} {noun} {suffix}", (3, 29),
      ["Angled", "Pro", "Contractor"], ["", "(3-Pack)"], ["holds more paint", "crisp lines on trim"],
      ["For latex and oil-based paint", "Not a paint roller"]),
    T("paint roller", 0.4, "Paint/Paint Tools/Paint Rollers",
      ["Paint Roller", "Roller Cover", "Paint Roller Kit", "Roller Frame", "Mini Roller"],
      ["paint roller", "paint rollers", "roller cover"], ["Wooster", "Purdy", "Shur-Line", "HDX"],
      {"size": ["9 in.*4", "4 in.", "18 in."], "material": ["Polyester*2", "Nylon"]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (3, 29), ["3/8 in. Nap", "1/2 in. Nap", "Lint-Free"],
      ["", "(3-Pack)", "with Tray"], ["smooth finish on walls", "shed-resistant"],
      ["Use with any interior paint", "Brush sold separately"]),
    T("caulk", 0.5, "Paint/Caulk & Sealants",
      ["Caulk", "Sealant", "Kitchen and Bath Caulk", "Window and Door Caulk", "Caulk Tube", "Adhesive Caulk"],
      ["caulk", "caulks", "sealant", "caulking"], ["DAP", "GE", "Gorilla", "Red Devil", "Loctite"],
      {"material": ["Silicone*3", "Acrylic Latex*3", "Polyurethane"], "color": ["White*3", "Clear*3", "Gray",
      "Beige"]},
      "{brand} {size} {material} {mod} {noun} {suffix} {in_color}", (3, 19), ["Alex Plus", "Kwik Seal", "Supreme"],
      ["", "10.1 oz.", "(12-Pack)"], ["waterproof seal", "mold and mildew resistant"],
      ["Caulk gun sold separately", "Seals gaps around tubs, sinks and windows"]),
    # Hardware
    T("screws", 1.0, "Hardware/Fasteners/Screws",
      ["Wood Screws", "Deck Screws", "Drywall Screws", "Construction Screws", "Screws", "Flat Head Screws",
       "Screw"], ["screws", "screw"], FASTENER,
      {"material": ["Zinc*2", "Stainless Steel*2", "Steel*2"], "size": ["1-1/4 in.*2", "1-5/8 in.*2", "2 in.",
      "2-1/2 in.*2", "3 in.*2"]},
      "{brand} #8 x {size} {material} {mod} {noun} {suffix}", (4, 59), ["Phillips", "Star Drive", "Torx",
      "Coarse Thread", "Bugle Head"], ["", "(1 lb.-Pack)", "(100-Pack)", "(5 lb.-Pack)", "(350-Piece)"],
      ["for indoor and outdoor projects", "no pre-drilling needed"],
      ["Drive with any drill or impact driver", "Driver bit included"]),
    T("nails", 0.7, "Hardware/Fasteners/Nails",
      ["Nails", "Common Nails", "Finish Nails", "Framing Nails", "Brad Nails", "Roofing Nails"],
      ["nails", "nail"], FASTENER,
      {"material": ["Galvanized Steel*3", "Steel*2", "Stainless Steel"], "size": ["1-1/4 in.", "2 in.*2",
      "2-1/2 in.", "3 in.*2", "3-1/2 in."]}, "{brand} {size} {material} {mod} {noun} {suffix}", (4, 99),
      ["Hot-Dipped", "Bright", "Smooth Shank", "Ring Shank", "Collated"], ["", "(1 lb.-Pack)", "(5 lb.-Pack)",
      "(2,000-Count)"], ["for framing and general construction"], ["For nail guns and hammers"]),
    T("door knob", 0.7, "Hardware/Door Hardware/Door Knobs",
      ["Door Knob", "Passage Knob", "Privacy Door Knob", "Entry Knob", "Doorknob", "Door Lever",
       "Passage Door Knob"], ["door knob", "door knobs", "doorknob", "door handle"], DOOR,
      {"color": ["Satin Nickel*3", "Matte Black*2", "Oil Rubbed Bronze*2", "Polished Brass", "Satin Brass",
      "Polished Chrome", "Venetian Bronze"]},
      "{brand} {mod} {noun} {suffix} {in_color}", (9, 79), ["Tylo", "Juno", "Hancock", "Round", "Passage",
      "Privacy", "SmartKey"], ["", "(2-Pack)"], ["fits standard door preps", "reversible for left and right doors"],
      ["Deadbolt sold separately", "Hinges not included"]),
    T("door hinge", 0.45, "Hardware/Door Hardware/Door Hinges",
      ["Door Hinge", "Hinge", "Butt Hinge", "Square Corner Hinge", "Spring Hinge", "Cabinet Hinge"],
      ["door hinge", "door hinges", "hinge", "hinges"], DOOR,
      {"color": ["Satin Nickel*3", "Matte Black*2", "Oil Rubbed Bronze*2", "Polished Brass", "White"],
       "size": ["3-1/2 in.*3", "4 in.*2", "3 in."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (3, 39), ["5/8 in. Radius", "Square", "Self-Closing"],
      ["", "(3-Pack)", "(6-Pack)", "(12-Pack)"], ["pre-drilled holes", "screws included"],
      ["Matches door knob finishes", "Not a cabinet pull"]),
    T("deadbolt", 0.45, "Hardware/Door Hardware/Deadbolts",
      ["Deadbolt", "Single Cylinder Deadbolt", "Double Cylinder Deadbolt", "Keyed Deadbolt",
       "Electronic Keypad Deadbolt", "Smart Lock Deadbolt"], ["deadbolt", "deadbolts", "door lock", "keypad lock"],
      DOOR, {"color": ["Satin Nickel*3", "Matte Black*2", "Oil Rubbed Bronze*2", "Polished Brass", "Venetian Bronze"]},
      "{brand} {mod} {noun} {suffix} {in_color}", (14, 249), ["SmartKey Security", "Grade 1", "Grade 2", "Touchpad"],
      ["", "with 2 Keys"], ["bump resistant", "rekey in seconds"], ["Matches door knobs of the same finish"]),
    T("cabinet pull", 0.7, "Hardware/Cabinet Hardware/Cabinet Pulls",
      ["Cabinet Pull", "Drawer Pull", "Bar Pull", "Cabinet Handle", "Cup Pull", "Cabinet Knob"],
      ["cabinet pull", "cabinet pulls", "drawer pulls", "cabinet handles"], PULL,
      {"color": ["Matte Black*3", "Satin Nickel*2", "Brushed Nickel*2", "Satin Brass*2", "Oil Rubbed Bronze",
      "Polished Chrome"], "size": ["3 in.*2", "3-3/4 in.*2", "5-1/16 in.*2", "6-5/16 in."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (2, 59), ["Center-to-Center", "Modern", "Bar", "Classic"],
      ["", "(10-Pack)", "(25-Pack)"], ["screws included", "fits pre-drilled cabinet doors"],
      ["Not a door knob", "Matches faucet finishes"]),
    # Garden and outdoor
    T("garden hose", 0.6, "Outdoors/Garden Center/Watering/Garden Hoses",
      ["Garden Hose", "Hose", "Heavy Duty Garden Hose", "Expandable Garden Hose", "Water Hose",
       "Lightweight Garden Hose"], ["garden hose", "garden hoses", "hose", "water hose"], GARDEN[:4] + ["HDX"],
      {"material": ["Rubber*2", "Vinyl*2", "Polyurethane", "Poly"],
       "size": ["25 ft.", "50 ft.*3", "75 ft.", "100 ft.*2"], "color": ["Green*3", "Black", "Blue", "Red"]},
      "{brand} 5/8 in. x {size} {material} {mod} {noun} {suffix}", (14, 129), ["Kink-Free", "Heavy Duty",
      "Drinking Water Safe"], ["", "with Brass Fittings"], ["crush-proof aluminum couplings",
       "flexible in cold weather"],
      ["Nozzle sold separately", "Fits hose reels"]),
    T("hose nozzle", 0.4, "Outdoors/Garden Center/Watering/Hose Nozzles",
      ["Hose Nozzle", "Spray Nozzle", "Garden Hose Nozzle", "Watering Wand", "Pistol Grip Nozzle"],
      ["hose nozzle", "hose nozzles", "spray nozzle"], GARDEN[:4],
      {"material": ["Zinc", "Plastic*2", "Aluminum", "Brass"]},
      "{brand} {material} {mod} {noun} {suffix}", (3, 29), ["8-Pattern", "10-Pattern", "Front Trigger"],
      ["", "(2-Pack)"], ["8 spray patterns", "comfort grip"], ["Fits all standard garden hoses", "Not a hose"]),
    T("hose reel", 0.3, "Outdoors/Garden Center/Watering/Hose Reels",
      ["Hose Reel", "Hose Reel Cart", "Wall-Mount Hose Reel", "Hose Hanger", "Hose Reel Box"],
      ["hose reel", "hose reels", "hose cart"], ["Suncast", "Ames", "Gilmore", "HDX"],
      {"material": ["Resin*2", "Steel*2", "Aluminum"], "size": ["100 ft.*2", "150 ft.*2", "225 ft."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (19, 199), ["Capacity", "Decorative"], [""],
      ["leader hose included", "smooth crank"], ["Holds a 5/8 in. garden hose", "Garden hose sold separately"]),
    T("grill", 0.55, "Outdoors/Outdoor Cooking/Grills",
      ["Grill", "Outdoor Grill", "Barbecue Grill", "BBQ Grill", "Freestanding Grill"], ["grill", "grills",
       "bbq grill", "barbecue grill"], GRILL,
      {"fuel": FUEL, "color": ["Black*3", "Stainless Steel*3", "Blue", "Red"]},
      "{brand} {mod} {fuel} {noun} {suffix} {in_color}", (99, 1299), ["Spirit", "Genesis", "Performance",
      "Classic", "Pro Series", "Master-Touch"], ["", "with Side Burner", "with Cover"],
      ["porcelain-enameled cast iron grates", "built-in thermometer"],
      ["Grill cover sold separately", "Propane tank not included"]),
    T("grill cover", 0.25, "Outdoors/Outdoor Cooking/Grill Accessories",
      ["Grill Cover", "Premium Grill Cover", "Heavy Duty Grill Cover", "BBQ Cover"],
      ["grill cover", "grill covers", "bbq cover"], GRILL + ["HDX"],
      {"size": ["58 in.*2", "65 in.*2", "72 in."], "color": ["Black*4", "Gray", "Brown"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (19, 79), ["Weather Resistant", "Universal"], [""],
      ["UV-resistant fabric", "fits most 3-burner grills"], ["Fits gas grills and charcoal grills", "Not a grill"]),
    T("patio chair", 0.45, "Outdoors/Patio Furniture/Patio Chairs",
      ["Patio Chair", "Outdoor Dining Chair", "Adirondack Chair", "Patio Lounge Chair", "Rocking Chair",
       "Patio Dining Chair"], ["patio chair", "patio chairs", "outdoor chair"],
      ["Hampton Bay", "Home Decorators Collection", "Suncast", "Keter"],
      {"material": ["Wicker*3", "Aluminum*2", "Teak", "Cedar", "Resin*2", "Steel"],
       "color": ["Brown*2", "Black*2", "Gray*2", "White", "Natural", "Teal"]},
      "{brand} {mod} {material} {noun} {suffix} {in_color}", (39, 499), ["Stackable", "Swivel", "Folding"],
      ["", "(2-Pack)", "with Cushions", "(4-Pack)"], ["weather-resistant", "quick-dry cushions"],
      ["Cushions sold separately", "Table not included"]),
    T("wheelbarrow", 0.3, "Outdoors/Garden Center/Garden Tools/Wheelbarrows",
      ["Wheelbarrow", "Wheel Barrow", "Yard Cart", "Garden Cart", "Dump Cart"],
      ["wheelbarrow", "wheelbarrows", "wheel barrow", "yard cart"], ["Jackson", "True Temper", "Gorilla Carts",
      "Ames", "Razor-Back"], {"material": ["Steel*3", "Poly*2"], "size": ["6 cu. ft.*3", "4 cu. ft.", "8 cu. ft."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (59, 299), ["Dual Wheel", "Flat-Free Tire", "Contractor"],
      [""], ["hauls mulch, dirt and stone", "pneumatic tire"], ["Shovel sold separately"]),
    T("shovel", 0.45, "Outdoors/Garden Center/Garden Tools/Shovels",
      ["Shovel", "Round Point Shovel", "Square Point Shovel", "Digging Shovel", "Spade", "Trenching Shovel"],
      ["shovel", "shovels", "spade"], ["Ames", "Fiskars", "True Temper", "Razor-Back", "Husky"],
      {"material": ["Fiberglass*3", "Wood*2", "Steel*2"]}, "{brand} {mod} {material} Handle {noun} {suffix}",
      (14, 69), ["Long Handle", "D-Handle", "Comfort Step"], [""], ["digs through tough soil", "forged blade"],
      ["Not a snow shovel", "Rake sold separately"]),
    T("rake", 0.35, "Outdoors/Garden Center/Garden Tools/Rakes",
      ["Leaf Rake", "Rake", "Bow Rake", "Shrub Rake", "Garden Rake"], ["rake", "rakes"],
      ["Ames", "Fiskars", "True Temper", "Razor-Back", "Husky"],
      {"material": ["Steel*2", "Poly*2", "Fiberglass", "Bamboo"]}, "{brand} {material} {mod} {noun} {suffix}",
      (9, 49), ["24-Tine", "Adjustable", "Clog-Free"], [""], ["gathers leaves and grass clippings"],
      ["Leaf blower alternative", "Works with lawn and leaf bags"]),
    # Storage
    T("shelving unit", 0.55, "Storage & Organization/Garage Storage/Shelving",
      ["Shelving Unit", "Garage Shelving", "Storage Shelf", "Wire Shelving Unit", "Steel Shelving Unit",
       "Utility Shelf"], ["shelving unit", "shelving units", "shelves", "storage shelf"], STORAGE,
      {"material": ["Steel*3", "Plastic*2", "Resin"], "color": ["Black*3", "Gray*2", "Chrome",
      "White"]},
      "{brand} {mod} {material} {noun} {suffix} {in_color}", (29, 299), ["5-Tier", "4-Tier", "Heavy Duty",
      "Boltless"], ["", "(48 in. W x 72 in. H x 24 in. D)", "(36 in. W x 72 in. H x 18 in. D)"],
      ["adjustable shelf heights", "holds up to 4,000 lb."], ["Pre-drilled uprights", "Storage bins sold separately"]),
    T("storage bin", 0.45, "Storage & Organization/Storage Containers/Storage Bins",
      ["Storage Bin", "Storage Tote", "Tote with Lid", "Latching Storage Box", "Storage Container"],
      ["storage bin", "storage bins", "tote", "storage tote"], STORAGE,
      {"color": ["Black*3", "Clear*2", "Gray", "Blue", "Yellow"], "size": ["12 gal.", "18 gal.*2", "27 gal.*2",
      "66 qt."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (5, 49), ["Tough", "Stackable", "Heavy Duty"],
      ["", "(4-Pack)", "(6-Pack)"], ["snap-tight lid", "stackable"], ["Fits on garage shelving units"]),
    # Flooring
    T("vinyl plank flooring", 0.5, "Flooring/Vinyl Flooring/Vinyl Plank Flooring",
      ["Luxury Vinyl Plank Flooring", "Vinyl Plank Flooring", "Click Lock Luxury Vinyl Plank Flooring",
       "Waterproof Rigid Core Luxury Vinyl Plank Flooring", "LVP Flooring"],
      ["vinyl plank flooring", "vinyl plank", "lvp flooring", "vinyl flooring"], FLOOR,
      {"color": ["Gray*3", "Brown*3", "Natural*2", "Beige", "White"]},
      "{brand} {mod} {color} 7.1 in. W x 48 in. L {noun} {suffix}", (1, 99), ["Sterling Oak", "Coastal Oak",
      "Hickory", "Walnut", "Maple", "12 MIL", "20 MIL"], ["(23.8 sq. ft./carton)",
      "(18.7 sq. ft.)"], ["100% waterproof", "click-lock installation"],
      ["Not laminate", "Underlayment attached"]),
    T("tile", 0.8, "Flooring/Tile",
      ["Floor and Wall Tile", "Subway Tile", "Wall Tile", "Floor Tile", "Mosaic Tile", "Tile"], ["tile", "tiles",
       "tiling"], TILE,
      {"material": ["Porcelain*3", "Ceramic*3", "Glass"], "color": ["White*3", "Gray*3", "Beige*2", "Black",
      "Blue"], "size": ["12 in. x 24 in.*2", "3 in. x 6 in.*2", "12 in. x 12 in.*2", "24 in. x 24 in."]},
      "{brand} {mod} {color} {size} {material} {noun} {suffix}", (1, 89), ["Matte", "Glossy", "Marble Look",
      "Wood Look", "Restore"], ["", "(15.6 sq. ft./carton)", "(12 sq. ft.)"], ["frost resistant", "rectified edges"],
      ["Grout sold separately", "Cut with a tile saw or tile cutter"]),
    # Appliances and climate
    T("refrigerator", 0.5, "Appliances/Refrigerators",
      ["Refrigerator", "French Door Refrigerator", "Side-by-Side Refrigerator", "Top Freezer Refrigerator",
       "Counter-Depth Refrigerator", "Bottom Freezer Refrigerator"], ["refrigerator", "refrigerators", "fridge"],
      APPLIANCE, {"color": ["Stainless Steel*4", "Black Stainless Steel*2", "White*2", "Black*2"],
      "size": ["25 cu. ft.*2", "28 cu. ft.*2", "18 cu. ft.", "22 cu. ft."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (599, 3999), ["Smart", "ENERGY STAR", "3-Door"],
      ["", "with Ice Maker", "with Dual Ice Maker"], ["external water dispenser", "LED interior lighting"],
      ["Includes a water filter for clean tap water", "Not a freezer"]),
    T("water filter", 0.45, "Appliances/Appliance Parts/Refrigerator Water Filters",
      ["Refrigerator Water Filter", "Replacement Water Filter", "Fridge Water Filter", "Water Filter",
       "Ice and Water Filter"], ["refrigerator water filter", "water filter", "water filters", "fridge filter"],
      ["EveryDrop", "Samsung", "LG", "GE", "Whirlpool", "Frigidaire"], {"size": ["1-Pack*3", "2-Pack*2", "3-Pack"]},
      "{brand} {mod} {noun} {size} {suffix}", (19, 99), ["Filter 1", "Filter 3", "XWFE", "HAF-QIN"], [""],
      ["reduces lead and chlorine", "replace every 6 months"],
      ["Fits side-by-side and French door refrigerators", "Cleaner tap water"]),
    T("air filter", 0.7, "Heating & Cooling/Air Filters",
      ["Air Filter", "Furnace Filter", "Pleated Air Filter", "AC Filter", "Allergen Air Filter"],
      ["air filter", "air filters", "furnace filter", "ac filter"], ["Filtrete", "Honeywell", "Nordic Pure", "HDX"],
      {"size": [V("16 in. x 25 in. x 1 in.", ["16 in. x 25 in. x 1 in.", "16x25x1"], ["16x25x1", "16 x 25 x 1"], w=2),
                V("20 in. x 25 in. x 1 in.", ["20 in. x 25 in. x 1 in.", "20x25x1"], ["20x25x1", "20 x 25 x 1"], w=2),
                V("16 in. x 20 in. x 1 in.", ["16 in. x 20 in. x 1 in.", "16x20x1"], ["16x20x1"]),
                V("20 in. x 20 in. x 1 in.", ["20 in. x 20 in. x 1 in.", "20x20x1"], ["20x20x1"])],
       "rating": [V("MERV 8", w=2), V("MERV 11", w=2), V("MERV 13")]},
      "{brand} {size} {rating} {mod} {noun} {suffix}", (9, 89), ["Pleated", "Allergen Defense", "Basic"],
      ["", "(4-Pack)", "(6-Pack)", "(12-Pack)"], ["captures dust, pollen and pet dander", "electrostatically charged"],
      ["Fits furnaces and air conditioners", "Replace every 90 days"]),
    T("space heater", 0.45, "Heating & Cooling/Space Heaters",
      ["Space Heater", "Ceramic Space Heater", "Oil-Filled Radiator Heater", "Infrared Heater", "Electric Heater",
       "Tower Heater"], ["space heater", "space heaters", "portable heater", "room heater"],
      ["Lasko", "Vornado", "Dr. Infrared Heater", "Comfort Zone", "Honeywell"],
      {"size": ["1500 Watt*4", "750 Watt"], "color": ["Black*3", "White*2", "Gray"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (24, 199), ["Digital", "Oscillating", "Tip-Over Safety"],
      ["", "with Remote Control"], ["tip-over safety switch", "adjustable thermostat"],
      ["Not a water heater", "Heats rooms up to 300 sq. ft."]),
    # Power tool accessories (name other types)
    T("drill bit set", 0.7, "Tools/Power Tool Accessories/Drill Bits",
      ["Drill Bit Set", "Drill and Drive Bit Set", "Twist Drill Bit Set", "Masonry Drill Bit Set",
       "Spade Drill Bit Set", "Step Drill Bit", "Drill Bit"], ["drill bit set", "drill bits", "drill bit"],
      POWER_TOOL[:8] + ["IRWIN"], {"material": ["Titanium*3", "Cobalt*2", "Carbide", "High Speed Steel*2"],
      "size": ["21-Piece*2", "14-Piece*2", "29-Piece", "100-Piece", "1-Piece"]},
      "{brand} {material} {mod} {noun} {size} {suffix}", (9, 129), ["Pilot Point", "Impact Ready", "Black Oxide"],
      ["", "with Carrying Bag"], ["drills into metal, wood and plastic", "split point tip"],
      ["For cordless drills and impact drivers", "Fits any 3/8 in. and 1/2 in. drill chuck"]),
    T("saw blade", 0.55, "Tools/Power Tool Accessories/Saw Blades",
      ["Circular Saw Blade", "Miter Saw Blade", "Reciprocating Saw Blade Set", "Jig Saw Blade Set",
       "Saw Blade", "Diamond Saw Blade", "Framing Saw Blade"], ["saw blade", "saw blades", "blade"],
      POWER_TOOL[:8] + ["IRWIN"], {"material": ["Carbide*3", "High Speed Steel", "Steel"],
      "size": ["7-1/4 in.*3", "10 in.*2", "12 in.", "6 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (7, 99), ["24-Tooth", "40-Tooth", "60-Tooth",
      "Demolition"], ["", "(2-Pack)", "(5-Pack)"], ["thin kerf for fast cuts", "anti-vibration design"],
      ["For circular saws, miter saws and table saws", "Not a saw: replacement blade"]),
    T("mower blade", 0.25, "Outdoors/Outdoor Power Equipment/Lawn Mower Parts",
      ["Lawn Mower Blade", "Mower Blade", "Replacement Mower Blade", "Mulching Blade", "High-Lift Blade"],
      ["mower blade", "mower blades", "lawn mower blade"], OUTDOOR_POWER[:8],
      {"size": ["21 in.*3", "20 in.*2", "30 in.", "16 in."]}, "{brand} {size} {mod} {noun} {suffix}", (14, 49),
      ["Replacement", "3-in-1"], ["", "(2-Pack)"], ["fits most walk-behind lawn mowers"],
      ["Not a lawn mower", "Sharpen every season"]),
    T("trimmer line", 0.3, "Outdoors/Outdoor Power Equipment/Trimmer Parts",
      ["Trimmer Line", "String Trimmer Line", "Replacement Spool", "Trimmer Line Spool", "Twisted Line"],
      ["trimmer line", "trimmer string", "weed eater string", "replacement spool"], OUTDOOR_POWER[:8],
      {"size": ["0.080 in.*2", "0.095 in.*3", "0.065 in."]}, "{brand} {size} {mod} {noun} {suffix}", (5, 39),
      ["Twisted", "Round", "Pre-Wound"], ["", "(3-Pack)"], ["reduces noise", "fits most string trimmers"],
      ["Not a string trimmer", "Loads into bump heads"]),
    T("tool battery", 0.6, "Tools/Power Tool Accessories/Batteries & Chargers",
      ["Lithium-Ion Battery Pack", "Battery Pack", "Battery", "Battery and Charger Starter Kit", "High Output Battery",
       "Compact Battery"], ["tool battery", "tool batteries", "battery pack", "power tool battery"],
      POWER_TOOL + ["EGO", "Greenworks"], {"size": ["2.0Ah*3", "4.0Ah*2", "5.0Ah*2", "6.0Ah", "1.5Ah"]},
      "{brand} {platform} {size} {mod} {noun} {suffix}", (39, 249), ["XR", "REDLITHIUM", "High Output"],
      ["", "(2-Pack)", "with Charger"], ["fuel gauge shows remaining charge", "fits every tool of the platform"],
      ["Powers cordless drills, saws and blowers", "Drill sold separately"]),
]  # fmt: skip

WIRED = V("Wired", ["Wired", "Hardwired", "Plug-In"], ["wired", "hardwired", "plug in"])
BATTERY = V("Battery", ["Battery-Powered", "Battery Operated", "Wire-Free", "Rechargeable Battery"],
            ["battery", "wireless", "wire free", "battery powered"])  # fmt: skip
TYPES += [
    T("table saw", 0.3, "Tools/Power Tools/Saws/Table Saws",
      ["Table Saw", "Jobsite Table Saw", "Compact Table Saw", "Table Saw with Rolling Stand", "Portable Table Saw"],
      ["table saw", "table saws", "jobsite saw"], POWER_TOOL, {"power": ["Corded*4", "Cordless"],
      "size": ["10 in.*3", "8-1/4 in."]}, "{brand} {power} {size} {mod} {noun} {suffix}", (179, 899),
      ["Brushless", "Rack and Pinion Fence"], ["", "with Stand", "(Tool-Only)"], ["rips 4x8 sheets of plywood",
      "rack and pinion fence"], ["Includes 24-tooth blade and push stick", "Dado blades not compatible"]),
    T("nail gun", 0.4, "Tools/Power Tools/Nail Guns",
      ["Brad Nailer", "Framing Nailer", "Finish Nailer", "Nail Gun", "Pin Nailer", "Roofing Nailer"],
      ["nail gun", "nail guns", "nailer"], POWER_TOOL + ["Paslode"],
      {"power": ["Cordless*2", V("Pneumatic", ["Pneumatic", "Air"], ["pneumatic", "air"], w=2)],
       "size": ["18-Gauge*2", "16-Gauge*2", "15-Gauge", "21-Degree"]},
      "{brand} {power} {size} {mod} {noun} {suffix}", (49, 399), ["Brushless", "Magnesium", "2 in."], TOOL_SUFFIX,
      ["tool-free depth adjustment", "dry-fire lockout"], ["Nails sold separately", "Fits 2 in. brad nails"]),
    T("oscillating tool", 0.35, "Tools/Power Tools/Oscillating Tools",
      ["Oscillating Multi-Tool", "Oscillating Tool", "Multi-Tool", "Oscillating Multi-Tool Kit", "Multi-Tool Kit"],
      ["oscillating tool", "oscillating tools", "multi tool", "multitool"], POWER_TOOL,
      {"power": ["Cordless*3", "Corded*2"]}, "{brand} {power} {mod} {noun} {suffix}", (39, 229),
      ["Brushless", "Variable Speed", "Quick-Change"], TOOL_SUFFIX, ["cuts, scrapes and sands",
      "tool-free blade change"], ["Includes sanding pad and wood blade", "Flush cuts door jambs and trim"]),
    T("router", 0.3, "Tools/Power Tools/Routers",
      ["Router", "Compact Router", "Fixed Base Router", "Plunge Router", "Trim Router", "Router Combo Kit"],
      ["router", "routers", "wood router"], POWER_TOOL, {"power": ["Corded*3", "Cordless*2"],
      "size": ["1/4 in.*2", "1/2 in."]}, "{brand} {power} {mod} {size} {noun} {suffix}", (79, 349),
      ["Variable Speed", "2-1/4 HP", "1-1/4 HP", "Brushless"], TOOL_SUFFIX, ["shapes edges and cuts dadoes",
      "micro-fine depth adjustment"], ["Router bits sold separately", "Edge guide included"]),
    T("air compressor", 0.3, "Tools/Air Compressors",
      ["Air Compressor", "Pancake Air Compressor", "Portable Air Compressor", "Vertical Air Compressor",
       "Tire Inflator"], ["air compressor", "air compressors", "compressor"], POWER_TOOL[:8] + ["Husky"],
      {"power": ["Corded*4", "Cordless", "Gas"], "size": ["6 gal.*3", "1 gal.", "20 gal.", "8 gal."]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (59, 599), ["150 PSI", "Oil-Free", "Quiet"],
      ["", "with 13-Piece Accessory Kit"], ["fills tires and powers nail guns", "oil-free pump"],
      ["Air hose sold separately", "Powers brad nailers and inflators"]),
    T("heat gun", 0.2, "Tools/Power Tools/Heat Guns",
      ["Heat Gun", "Dual Temperature Heat Gun", "Variable Temperature Heat Gun", "Hot Air Gun"],
      ["heat gun", "heat guns", "hot air gun"], POWER_TOOL, {"power": ["Corded*4", "Cordless"]},
      "{brand} {power} {mod} {noun} {suffix}", (19, 149), ["1500-Watt", "LCD", "Variable Temperature"], TOOL_SUFFIX,
      ["strips paint and softens adhesives", "shrinks tubing"], ["Not a space heater", "Nozzles included"]),
    T("work light", 0.35, "Tools/Work Lights",
      ["LED Work Light", "Work Light", "Portable Work Light", "Tripod Work Light", "Stand Light"],
      ["work light", "work lights", "job site light"], POWER_TOOL[:8] + ["Husky", "HDX"],
      {"power": ["Cordless*2", "Corded*2"]}, "{brand} {power} {mod} {noun} {suffix}", (19, 299),
      ["5000 Lumen", "3000 Lumen", "Folding"], ["", "(Tool Only)", "with Tripod"], ["lights the whole room",
      "pivoting head"], ["Battery sold separately", "Not a flashlight"]),
    T("flashlight", 0.35, "Tools/Flashlights",
      ["Flashlight", "LED Flashlight", "Tactical Flashlight", "Headlamp", "Penlight"],
      ["flashlight", "flashlights", "torch"], ["Husky", "Milwaukee", "DEWALT", "Energizer", "Coast", "Maglite"],
      {"power": [V("Rechargeable", ["Rechargeable", "USB Rechargeable"], ["rechargeable"]),
                 V("AA Battery", ["AA Battery", "Battery-Operated", "AAA Battery"], ["battery", "battery operated"])],
       "color": ["Black*4", "Yellow", "Red", "Blue"]},
      "{brand} {mod} {power} {noun} {suffix} {in_color}", (5, 99), ["1000 Lumen", "500 Lumen", "Waterproof",
      "Focusing"], ["", "(2-Pack)", "with Batteries"], ["impact resistant", "twist focus"],
      ["Not a work light", "Clips to a hat or tool belt"]),
    T("laser level", 0.2, "Tools/Hand Tools/Measuring Tools/Laser Levels",
      ["Laser Level", "Cross Line Laser Level", "Self-Leveling Laser", "Rotary Laser Level", "Line Laser"],
      ["laser level", "laser levels", "cross line laser"], POWER_TOOL[:6] + ["Stanley", "Husky"],
      {"color": ["Green*3", "Red*2"]}, "{brand} {mod} {color} {noun} {suffix}", (29, 499),
      ["100 ft.", "360-Degree", "Self-Leveling"], ["", "with Tripod", "Kit"], ["projects a level line",
      "visible beam indoors"], ["Not a spirit level", "Tripod sold separately"]),
    T("stud finder", 0.15, "Tools/Hand Tools/Measuring Tools/Stud Finders",
      ["Stud Finder", "Stud Sensor", "Electronic Stud Finder", "Magnetic Stud Finder"],
      ["stud finder", "stud finders", "stud sensor"], ["Zircon", "Franklin Sensors", "Stanley", "Craftsman"],
      {}, "{brand} {mod} {noun} {suffix}", (9, 69), ["Edge Finding", "Multi-Sensor", "LED"], [""],
      ["finds wood and metal studs", "detects live AC wiring"], ["Not lumber", "Find studs before hanging shelves"]),
    T("hand saw", 0.3, "Tools/Hand Tools/Hand Saws",
      ["Hand Saw", "Handsaw", "Pull Saw", "Hacksaw", "Coping Saw", "Pruning Saw", "Jab Saw"],
      ["hand saw", "hand saws", "handsaw"], HAND_TOOL, {"size": ["15 in.", "20 in.*2", "12 in.", "10 in."]},
      "{brand} {size} {mod} {noun} {suffix}", (7, 49), ["Fine Finish", "Universal", "Folding"], [""],
      ["induction-hardened teeth", "ergonomic handle"], ["Cuts wood and plastic pipe", "No cord, no battery"]),
    T("clamp", 0.35, "Tools/Hand Tools/Clamps",
      ["Bar Clamp", "Clamp", "Quick-Grip Bar Clamp", "C-Clamp", "Spring Clamp", "Pipe Clamp"],
      ["clamp", "clamps"], ["IRWIN", "Bessey", "Pony Jorgensen", "Husky", "DEWALT"],
      {"size": ["6 in.", "12 in.*2", "24 in.", "36 in."], "material": ["Steel*2", "Resin", "Aluminum"]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (4, 59), ["One-Handed", "Heavy Duty", "Quick-Release"],
      ["", "(2-Pack)", "(4-Pack)"], ["holds work for gluing", "converts to a spreader"],
      ["Pipe sold separately for pipe clamps", "Holds workpieces while you drill and saw"]),
    T("snow blower", 0.25, "Outdoors/Outdoor Power Equipment/Snow Blowers",
      ["Snow Blower", "Single-Stage Snow Blower", "Two-Stage Snow Blower", "Snow Thrower", "Snowblower"],
      ["snow blower", "snow blowers", "snowblower", "snow thrower"], OUTDOOR_POWER + ["Honda"],
      {"power": ["Gas*3", "Cordless*2", "Corded"], "size": ["21 in.*2", "24 in.*2", "26 in.", "18 in."]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (199, 1499), ["Electric Start", "Self-Propelled",
      "Brushless"], ["", "with Headlight"], ["throws snow up to 35 ft.", "clears a wide path"],
      ["Not a leaf blower", "Snow shovel sold separately"]),
    T("snow shovel", 0.2, "Outdoors/Garden Center/Garden Tools/Snow Shovels",
      ["Snow Shovel", "Snow Pusher", "Ergonomic Snow Shovel", "Combo Snow Shovel"],
      ["snow shovel", "snow shovels"], ["Ames", "True Temper", "Suncast", "Razor-Back"],
      {"material": ["Poly*3", "Aluminum", "Steel"], "size": ["18 in.*2", "24 in.*2", "36 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (14, 69), ["Ergonomic", "Wear Strip"], [""],
      ["pushes and lifts snow", "wear strip protects the blade"], ["Not a garden shovel", "Not a snow blower"]),
    T("sprinkler", 0.35, "Outdoors/Garden Center/Watering/Sprinklers",
      ["Sprinkler", "Oscillating Sprinkler", "Impact Sprinkler", "Rotary Sprinkler", "Sprinkler Head",
       "Pop-Up Sprinkler"], ["sprinkler", "sprinklers", "lawn sprinkler"], ["Melnor", "Orbit", "Gilmore", "Rain Bird"],
      {"material": ["Plastic*3", "Zinc*2", "Brass"]}, "{brand} {material} {mod} {noun} {suffix}", (4, 59),
      ["Adjustable", "360-Degree", "Heavy Duty"], ["", "(2-Pack)", "(4-Pack)"], ["waters up to 4,000 sq. ft.",
      "adjustable spray width"], ["Connects to a garden hose", "Hose sold separately"]),
    T("planter", 0.4, "Outdoors/Garden Center/Pots & Planters",
      ["Planter", "Pot", "Raised Planter", "Window Box Planter", "Hanging Basket", "Self-Watering Planter"],
      ["planter", "planters", "flower pot", "plant pot"], ["Southern Patio", "Bloem", "Vigoro", "Suncast"],
      {"material": ["Resin*3", "Ceramic*2", "Terra Cotta*2", "Fiberglass"], "color": ["Black*2", "White*2",
      "Gray", "Brown", "Blue", "Teal"], "size": ["12 in.*2", "16 in.*2", "20 in.", "8 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix} {in_color}", (4, 99), ["Round", "Square", "Indoor/Outdoor"],
      ["", "(2-Pack)"], ["drainage hole", "UV-resistant"], ["Soil sold separately", "Fits on a patio or deck"]),
    T("pendant light", 0.4, "Lighting/Pendant Lights",
      ["Pendant Light", "Mini Pendant", "Pendant", "Island Pendant Light", "Hanging Pendant Light"],
      ["pendant light", "pendant lights", "pendant"], ["Hampton Bay", "Home Decorators Collection", "Globe Electric",
      "Progress Lighting", "Kichler"], {"color": ["Matte Black*3", "Brushed Nickel*2", "Satin Brass*2",
      "Oil Rubbed Bronze", "Chrome", "White"]}, "{brand} {mod} {noun} {suffix} {in_color}", (29, 299),
      ["1-Light", "3-Light", "Farmhouse", "Modern"], ["", "with Clear Glass Shade", "with Metal Shade"],
      ["adjustable cord length", "dimmable with compatible dimmer"], ["Bulb not included",
       "Hangs over a kitchen island"]),
    T("chandelier", 0.3, "Lighting/Chandeliers",
      ["Chandelier", "Candle Chandelier", "Crystal Chandelier", "Farmhouse Chandelier", "Drum Chandelier"],
      ["chandelier", "chandeliers"], ["Hampton Bay", "Home Decorators Collection", "Kichler", "Progress Lighting"],
      {"color": ["Matte Black*3", "Brushed Nickel*2", "Satin Brass*2", "Oil Rubbed Bronze", "Chrome"],
       "size": ["5-Light*2", "6-Light*2", "3-Light", "8-Light"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (99, 999), ["Farmhouse", "Modern", "Transitional"],
      ["", "with Crystal Accents"], ["adjustable chain", "dimmable"], ["Bulbs not included", "Not a ceiling fan"]),
    T("vanity light", 0.4, "Lighting/Bathroom Lighting/Vanity Lights",
      ["Vanity Light", "Bath Light", "Bathroom Vanity Light", "Vanity Light Bar", "Wall Sconce"],
      ["vanity light", "vanity lights", "bath light", "bathroom light"], ["Hampton Bay", "Home Decorators Collection",
      "Globe Electric", "Kichler", "Progress Lighting"],
      {"color": ["Brushed Nickel*3", "Matte Black*3", "Chrome*2", "Satin Brass", "Oil Rubbed Bronze"],
       "size": ["1-Light", "2-Light*2", "3-Light*3", "4-Light"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (29, 299), ["LED", "Modern", "Farmhouse"],
      ["", "with Frosted Glass Shades"], ["mounts up or down", "damp rated"], ["Bulbs not included",
      "Mount above a bathroom vanity"]),
    T("bathroom vanity", 0.35, "Bath & Kitchen/Bathroom/Bathroom Vanities",
      ["Bath Vanity", "Bathroom Vanity", "Single Sink Vanity", "Vanity with Top", "Double Sink Vanity",
       "Vanity Cabinet"], ["bathroom vanity", "bathroom vanities", "bath vanity"],
      ["Glacier Bay", "Home Decorators Collection", "Glacier Bay Bath", "Kohler"],
      {"color": ["White*3", "Gray*2", "Dark Walnut", "Blue", "Natural"], "size": ["24 in.", "30 in.*2", "36 in.*2",
      "48 in.", "60 in."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (199, 1499), ["Shaker", "Freestanding", "Floating"],
      ["", "with Cultured Marble Top", "with White Ceramic Sink"], ["soft-close doors", "solid wood frame"],
      ["Faucet sold separately", "Includes a sink"]),
    T("bathtub", 0.2, "Bath & Kitchen/Bathroom/Bathtubs",
      ["Bathtub", "Alcove Bathtub", "Freestanding Bathtub", "Soaking Tub", "Bath Tub", "Drop-In Bathtub"],
      ["bathtub", "bathtubs", "tub", "bath tub"], ["American Standard", "Kohler", "Glacier Bay", "Sterling"],
      {"material": ["Acrylic*3", "Cast Iron", "Fiberglass*2"], "size": ["60 in.*3", "66 in.", "72 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (299, 2499), ["Right Drain", "Left Drain", "Soaking"],
      ["", "in White"], ["slip-resistant bottom", "integral apron"], ["Faucet and drain sold separately",
      "Seal with kitchen and bath caulk"]),
    T("shower door", 0.2, "Bath & Kitchen/Bathroom/Shower Doors",
      ["Shower Door", "Sliding Shower Door", "Frameless Shower Door", "Pivot Shower Door", "Bypass Shower Door"],
      ["shower door", "shower doors", "glass shower door"], ["DreamLine", "Glacier Bay", "Delta", "Sterling"],
      {"color": ["Chrome*3", "Brushed Nickel*2", "Matte Black*2", "Oil Rubbed Bronze"],
       "size": ["60 in.*3", "48 in.", "36 in."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (199, 999), ["Frameless", "Semi-Frameless"],
      ["", "with Clear Glass"], ["tempered glass", "reversible installation"], ["Shower head sold separately"]),
    T("plunger", 0.2, "Plumbing/Drain Cleaning/Plungers",
      ["Plunger", "Toilet Plunger", "Flange Plunger", "Sink Plunger", "Accordion Plunger"],
      ["plunger", "plungers", "toilet plunger"], ["Everbilt", "Cobra", "HDX", "General Pipe Cleaners"],
      {"material": ["Rubber*3", "Plastic"]}, "{brand} {material} {mod} {noun} {suffix}", (4, 29),
      ["Heavy Duty", "with Holder"], ["", "(2-Pack)"], ["clears clogged toilets", "T-handle"],
      ["Not a drain snake", "Works on toilets and sinks"]),
    T("drain snake", 0.2, "Plumbing/Drain Cleaning/Drain Augers",
      ["Drain Auger", "Drain Snake", "Toilet Auger", "Drain Cleaning Tool", "Drum Auger"],
      ["drain snake", "drain snakes", "drain auger"], ["Everbilt", "Cobra", "RIDGID",
      "General Pipe Cleaners", "Milwaukee"],
      {"size": ["25 ft.*3", "3 ft.*2", "50 ft."], "power": ["Corded", "Cordless", V("Manual", ["Manual", "Hand"],
       ["manual", "hand"], w=3)]},
      "{brand} {size} {power} {mod} {noun} {suffix}", (9, 399), ["1/4 in.", "Heavy Duty"], [""],
      ["clears clogs in sinks, tubs and showers", "flexible cable"], ["Not a plunger", "Gloves included"]),
    T("thermostat", 0.3, "Heating & Cooling/Thermostats",
      ["Programmable Thermostat", "Smart Thermostat", "Thermostat", "Wi-Fi Thermostat", "Non-Programmable Thermostat"],
      ["thermostat", "thermostats", "home thermostat"], ["Honeywell", "Google Nest", "ecobee", "Emerson"],
      {"color": ["White*3", "Black*2", "Silver"]}, "{brand} {mod} {noun} {suffix} {in_color}", (24, 279),
      ["7-Day", "Touchscreen", "ENERGY STAR", "Learning"], ["", "with Sensor"], ["saves energy on heating and cooling",
      "works with most HVAC systems"], ["Not a space heater", "C-wire adapter included"]),
    T("dehumidifier", 0.25, "Heating & Cooling/Dehumidifiers",
      ["Dehumidifier", "Portable Dehumidifier", "Dehumidifier with Pump", "Basement Dehumidifier"],
      ["dehumidifier", "dehumidifiers"], ["Frigidaire", "GE", "hOmeLabs", "LG", "Midea"],
      {"size": ["50 Pint*3", "35 Pint*2", "22 Pint"], "color": ["White*3", "Black", "Gray"]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (149, 399), ["ENERGY STAR", "Smart", "Wi-Fi"], [""],
      ["removes moisture from basements", "auto shut-off"], ["Not an air filter", "Hose sold separately"]),
    T("dishwasher", 0.3, "Appliances/Dishwashers",
      ["Dishwasher", "Front Control Dishwasher", "Top Control Dishwasher", "Built-In Dishwasher",
       "Portable Dishwasher"], ["dishwasher", "dishwashers", "dish washer"], APPLIANCE + ["Bosch"],
      {"color": ["Stainless Steel*4", "Black Stainless Steel*2", "White*2", "Black*2"], "size": ["24 in.*4", "18 in."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (349, 1299), ["Quiet", "3rd Rack", "ENERGY STAR"],
      ["", "with Stainless Steel Tub"], ["third rack for utensils", "quiet 44 dBA"],
       ["Installation kit sold separately"]),
    T("microwave", 0.3, "Appliances/Microwaves",
      ["Over-the-Range Microwave", "Countertop Microwave", "Microwave", "Built-In Microwave", "Microwave Drawer"],
      ["microwave", "microwaves", "microwave oven"], APPLIANCE,
      {"color": ["Stainless Steel*4", "Black Stainless Steel*2", "White*2", "Black*2"],
       "size": ["1.1 cu. ft.", "1.6 cu. ft.", "1.9 cu. ft.*2", "2.2 cu. ft."]},
      "{brand} {size} {mod} {noun} {suffix} {in_color}", (99, 699), ["Sensor Cooking", "1000-Watt", "Smart"],
      ["", "with Air Fry"], ["sensor cooking", "turntable"], ["Not a range", "Charcoal filter included"]),
    T("range", 0.3, "Appliances/Ranges",
      ["Range", "Slide-In Range", "Freestanding Range", "Range with Convection Oven", "Stove"],
      ["range", "ranges", "stove", "oven"], APPLIANCE,
      {"fuel": [V("Gas", ["Gas"], ["gas"], w=2), V("Electric", ["Electric", "Electric Smooth Top"], ["electric"], w=2),
                V("Induction", ["Induction"], ["induction"], family="Electric", fq=["electric"])],
       "color": ["Stainless Steel*4", "Black Stainless Steel*2", "White*2", "Black*2"]},
      "{brand} 30 in. {mod} {fuel} {noun} {suffix} {in_color}", (499, 2499), ["5-Burner", "Self-Cleaning", "Smart"],
      ["", "with Air Fry"], ["5.3 cu. ft. oven", "self-cleaning"], ["Range hood sold separately", "Not a microwave"]),
    T("window blinds", 0.4, "Window Treatments/Blinds",
      ["Cordless Blinds", "Mini Blinds", "Roller Shade", "Cellular Shade", "Blinds",
       "Cordless Light Filtering Blinds"], ["blinds", "blind", "window blinds", "window shades"],
        ["Home Decorators Collection", "Levolor",
      "Bali", "HDX"], {"material": ["Vinyl*2", "Faux Wood*2", "Aluminum", "Polyester"], "color": ["White*4",
      "Gray", "Beige", "Black", "Brown"], "size": ["23 in. W x 64 in. L*2", "35 in. W x 64 in. L*2",
      "47 in. W x 64 in. L", "71 in. W x 64 in. L"]},
      "{brand} {material} {color} {noun} {size} {suffix}", (9, 149), ["Cordless", "Light Filtering", "Blackout",
      "2 in."], ["", "(Cut to Size)"], ["child-safe cordless lift", "light filtering"],
      ["Not a power tool", "Mounting brackets included"]),
    T("interior door", 0.3, "Building Materials/Doors/Interior Doors",
      ["Interior Door", "Prehung Interior Door", "Slab Door", "Barn Door", "Bifold Door", "Door"],
      ["door", "doors", "interior door"], ["Masonite", "JELD-WEN", "Home Decorators Collection"],
      {"material": ["MDF*3", "Composite*2", "Pine", "Wood"], "color": ["White*4", "Natural", "Gray", "Black"],
       "size": ["30 in. x 80 in.*2", "32 in. x 80 in.*2", "36 in. x 80 in.", "24 in. x 80 in."]},
      "{brand} {size} {mod} {material} {noun} {suffix} {in_color}", (59, 499), ["2-Panel", "Shaker", "Hollow Core",
      "Solid Core", "Right-Handed"], ["", "(Primed)"], ["pre-drilled for a door knob", "smooth paintable surface"],
      ["Door knob and hinges sold separately", "Not an exterior door"]),
    T("lumber", 0.55, "Building Materials/Lumber",
      ["Lumber", "Stud", "Dimensional Lumber", "Framing Lumber", "Kiln-Dried Lumber"],
      ["lumber", "studs", "lumber boards"], ["Weyerhaeuser", "Boise Cascade", "Veranda"],
      {"size": [V("2 in. x 4 in. x 8 ft.", ["2 in. x 4 in. x 8 ft.", "2x4x8", "2 x 4 x 8 ft."], ["2x4x8", "2x4 8 ft"],
       w=3),
                V("2 in. x 4 in. x 10 ft.", ["2 in. x 4 in. x 10 ft.", "2x4x10"], ["2x4x10", "2x4 10 ft"]),
                V("2 in. x 6 in. x 8 ft.", ["2 in. x 6 in. x 8 ft.", "2x6x8"], ["2x6x8", "2x6 8 ft"], w=2),
                V("4 in. x 4 in. x 8 ft.", ["4 in. x 4 in. x 8 ft.", "4x4x8"], ["4x4x8", "4x4 8 ft"])],
       "material": ["Douglas Fir*2", "Pressure-Treated Pine*2", "Pine*2", "Cedar"]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (3, 39), ["Premium", "#2 Prime", "Ground Contact"], [""],
      ["kiln-dried for stability", "straight and true"], ["Nails and screws sold separately",
       "Cut with a circular saw"]),
    T("plywood", 0.35, "Building Materials/Plywood",
      ["Plywood", "Sanded Plywood", "Sheathing Plywood", "Underlayment Plywood", "Plywood Panel"],
      ["plywood", "plywood sheet", "plywood sheets"], ["Columbia Forest Products", "Weyerhaeuser", "Boise Cascade"],
      {"size": [V("1/2 in. x 4 ft. x 8 ft.", ["1/2 in. x 4 ft. x 8 ft."], ["1/2 inch 4x8", "1/2 4x8"], w=2),
                V("3/4 in. x 4 ft. x 8 ft.", ["3/4 in. x 4 ft. x 8 ft."], ["3/4 inch 4x8", "3/4 4x8"], w=2),
                V("1/4 in. x 2 ft. x 4 ft.", ["1/4 in. x 2 ft. x 4 ft."], ["1/4 inch 2x4"])],
       "material": ["Pine*2", "Birch*2", "Wood"]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (9, 99), ["Sanded", "Project Panel", "CDX"], [""],
      ["smooth face for finishing", "cross-laminated veneers"], ["Cut with a table saw or circular saw"]),
    T("drywall", 0.3, "Building Materials/Drywall",
      ["Drywall Panel", "Drywall", "Gypsum Panel", "Moisture Resistant Drywall", "Lightweight Drywall"],
      ["drywall", "drywall sheets", "sheetrock", "gypsum"], ["USG Sheetrock", "Gold Bond", "CertainTeed"],
      {"size": [V("1/2 in. x 4 ft. x 8 ft.", ["1/2 in. x 4 ft. x 8 ft."], ["1/2 inch 4x8", "1/2 4x8"], w=3),
                V("5/8 in. x 4 ft. x 8 ft.", ["5/8 in. x 4 ft. x 8 ft."], ["5/8 inch 4x8", "5/8 4x8"]),
                V("1/2 in. x 4 ft. x 12 ft.", ["1/2 in. x 4 ft. x 12 ft."], ["1/2 inch 4x12", "4x12"])]},
      "{brand} {size} {mod} {noun} {suffix}", (11, 29), ["UltraLight", "Mold Tough", "Fire-Resistant"], [""],
      ["for walls and ceilings", "tapered edges"], ["Hang with drywall screws", "Joint compound sold separately"]),
    T("concrete mix", 0.25, "Building Materials/Concrete & Cement",
      ["Concrete Mix", "High Strength Concrete Mix", "Fast-Setting Concrete Mix", "Mortar Mix",
       "Crack-Resistant Concrete"],
      ["concrete", "concrete mix", "cement"], ["Quikrete", "Sakrete"],
      {"size": ["50 lb.*2", "80 lb.*3", "60 lb."]}, "{brand} {size} {mod} {noun} {suffix}", (4, 19),
      ["5000 PSI", "Fast-Setting"], [""], ["sets fence posts in 20 minutes", "just add water"],
      ["Use a wheelbarrow and shovel to mix", "Not a paint"]),
    T("insulation", 0.25, "Building Materials/Insulation",
      ["Insulation", "Insulation Batt", "Insulation Roll", "Insulation Panel", "Faced Insulation Roll"],
      ["insulation", "attic insulation", "insulation roll"], ["Owens Corning", "Johns Manville", "ROCKWOOL"],
      {"material": ["Fiberglass*3", "Mineral Wool", "Foam"], "size": ["R-13*2", "R-19*2", "R-30", "R-38"]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (19, 99), ["Kraft Faced", "Unfaced", "EcoTouch"], [""],
      ["for walls, floors and attics", "sound dampening"], ["Wear gloves and safety glasses", "Not drywall"]),
    T("gutter", 0.2, "Building Materials/Roofing/Gutters",
      ["Gutter", "K-Style Gutter", "Rain Gutter", "Gutter Section"],
      ["gutter", "gutters", "rain gutter"], ["Amerimax", "Raingo", "Genova"],
      {"material": ["Vinyl*2", "Aluminum*2", "Galvanized Steel"], "color": ["White*3", "Brown*2", "Black"],
       "size": ["10 ft.*3", "16 ft."]}, "{brand} {size} {material} {mod} {noun} {suffix} {in_color}", (7, 49),
      ["5 in.", "K-Style", "Seamless"], [""], ["carries rainwater away from the foundation"],
      ["Downspout sold separately", "Reach gutters with a ladder"]),
    T("safety glasses", 0.25, "Tools/Safety/Safety Glasses",
      ["Safety Glasses", "Safety Eyewear", "Anti-Fog Safety Glasses", "Protective Eyewear",
       "Over-Glasses Safety Eyewear"],
      ["safety glasses", "protective eyewear", "eye protection"], ["3M", "DEWALT", "Milwaukee", "Husky", "Pyramex"],
      {"color": ["Clear*3", "Gray*2", "Yellow"]}, "{brand} {mod} {color} Lens {noun} {suffix}", (4, 29),
      ["Anti-Fog", "Scratch-Resistant", "Wraparound"], ["", "(3-Pack)", "(12-Pack)"], ["ANSI Z87.1 rated",
      "blocks 99.9% of UV"], ["Wear when using saws and grinders"]),
    T("work gloves", 0.3, "Tools/Safety/Work Gloves",
      ["Work Gloves", "Cut Resistant Gloves", "Coated Gloves", "Mechanic Gloves", "Gloves"],
      ["work gloves", "work glove", "gloves"], ["Firm Grip", "Husky", "Milwaukee", "DEWALT", "Wells Lamont"],
      {"material": ["Leather*3", "Nitrile*2", "Cotton"], "size": ["Large*3", "Medium*2", "X-Large*2", "Small"]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (4, 39), ["Touchscreen", "Insulated", "Grip"],
      ["", "(3-Pack)", "(10-Pack)"], ["reinforced palm", "breathable back"], ["Protects hands from splinters"]),
    T("tape", 0.4, "Paint/Tape",
      ["Tape", "Tape Roll", "Multi-Purpose Tape", "Tape (3-Pack)"], ["tape", "tapes", "adhesive tape"],
      ["3M", "Scotch", "Duck", "Gorilla", "FrogTape"],
      {"kind": [V("Duct", ["Duct"], ["duct"], w=3), V("Painter's", ["Painter's", "Painters"], ["painters",
       "painter's"], w=2), V("Electrical", ["Electrical", "Vinyl Electrical"], ["electrical"]), V("Masking")],
       "color": ["Silver*3", "Black*2", "Blue*2", "White", "Green", "Red"]},
      "{brand} 1.88 in. x 60 yd. {color} {kind} {mod} {noun} {suffix}", (3, 29), ["Heavy Duty", "Multi-Surface",
      "Clean Release"], [""], ["tears by hand", "strong adhesion"], ["Not a tape measure",
       "Painter's tape alternative"]),
    T("lubricant", 0.2, "Paint/Lubricants",
      ["Lubricant", "Multi-Use Lubricant", "Penetrating Oil", "Silicone Spray Lubricant", "Spray Lubricant"],
      ["lubricant", "lubricants", "spray lubricant", "penetrating oil"], ["WD-40", "3-IN-ONE", "Liquid Wrench"],
      {"size": ["11 oz.*3", "8 oz.*2", "12 oz."]}, "{brand} {size} {mod} {noun} {suffix}", (3, 19),
      ["Smart Straw", "Specialist", "Long-Term"], ["", "(2-Pack)"], ["loosens rusted bolts", "displaces moisture"],
      ["Not a paint", "Frees stuck hinges and locks"]),
    T("electrical wire", 0.35, "Electrical/Wire",
      ["NM-B Wire", "Romex SIMpull NM-B Wire", "THHN Wire", "Electrical Wire", "Building Wire", "Solid Copper Wire"],
      ["electrical wire", "wire", "romex"], ["Southwire", "Cerrowire", "Encore Wire"],
      {"size": ["12/2*3", "14/2*3", "10/2", "12/3"], "color": ["White*2", "Yellow*2", "Orange", "Black"]},
      "{brand} {length} {size} {mod} {noun} {suffix} {in_color}", (19, 299), ["Solid", "Stranded", "Gauge"],
      [""], ["for residential branch circuits", "600-volt rating"], ["Use with outlets and light switches"]),
    T("circuit breaker", 0.3, "Electrical/Circuit Breakers",
      ["Circuit Breaker", "Breaker", "Plug-On Circuit Breaker", "AFCI Circuit Breaker", "GFCI Circuit Breaker"],
      ["circuit breaker", "circuit breakers", "breaker"], ["Square D", "Eaton", "Siemens", "GE", "Murray"],
      {"size": ["15 Amp*3", "20 Amp*3", "30 Amp", "50 Amp"], "poles": [V("Single-Pole", ["Single-Pole", "1-Pole"],
       ["single pole"], w=2), V("Double-Pole", ["Double-Pole", "2-Pole"], ["double pole", "2 pole"])]},
      "{brand} {size} {poles} {mod} {noun} {suffix}", (7, 79), ["QO", "Homeline", "Type BR"], [""],
      ["fits load centers of the same brand"], ["Not a light switch", "Protects wiring from overload"]),
    T("security camera", 0.3, "Electrical/Home Security/Security Cameras",
      ["Security Camera", "Outdoor Security Camera", "Indoor Camera", "Spotlight Camera", "Floodlight Camera"],
      ["security camera", "security cameras", "surveillance camera"], ["Ring", "Arlo", "Blink", "Lorex"],
      {"power": [WIRED, BATTERY], "color": ["White*3", "Black*2"]},
      "{brand} {power} {mod} {noun} {suffix} {in_color}", (29, 299), ["1080p HD", "2K", "Night Vision"],
      ["", "(2-Pack)"], ["two-way talk", "motion alerts"], ["Subscription optional", "Works with a video doorbell"]),
    T("doorbell", 0.25, "Electrical/Home Security/Doorbells",
      ["Video Doorbell", "Doorbell", "Doorbell Camera", "Smart Doorbell"],
      ["doorbell", "doorbells", "door bell"], ["Ring", "Google Nest", "Arlo", "Heath Zenith"],
      {"power": [WIRED, BATTERY], "color": ["Black*2", "Satin Nickel*2", "White"]},
      "{brand} {power} {mod} {noun} {suffix} {in_color}", (19, 249), ["HD", "Head-to-Toe", "Smart"], [""],
      ["see who is at the door", "motion detection"], ["Not a door knob", "Chime sold separately"]),
    T("padlock", 0.3, "Hardware/Padlocks",
      ["Padlock", "Keyed Padlock", "Combination Padlock", "Laminated Padlock", "Shrouded Padlock"],
      ["padlock", "padlocks", "pad lock"], ["Master Lock", "ABUS", "Brinks"],
      {"material": ["Brass*2", "Laminated Steel*2", "Steel", "Stainless Steel"],
       "size": ["1-9/16 in.", "2 in.*2", "1-1/2 in.", "1-3/16 in."]},
      "{brand} {size} {material} {mod} {noun} {suffix}", (5, 49), ["Keyed Alike", "Weatherproof", "Resettable"],
      ["", "(2-Pack)", "(4-Pack)"], ["hardened shackle", "weather-resistant"], ["Not a deadbolt"]),
    T("mailbox", 0.2, "Hardware/Mailboxes",
      ["Mailbox", "Post Mount Mailbox", "Wall Mount Mailbox", "Locking Mailbox", "Rural Mailbox"],
      ["mailbox", "mailboxes", "mail box"], ["Gibraltar Mailboxes", "Architectural Mailboxes", "Everbilt"],
      {"material": ["Steel*3", "Plastic", "Aluminum"], "color": ["Black*4", "Oil Rubbed Bronze", "White", "Gray"]},
      "{brand} {mod} {material} {noun} {suffix} {in_color}", (19, 199), ["Medium", "Large Capacity", "Locking"],
      [""], ["weather-resistant powder coat", "red flag"], ["Post sold separately"]),
    T("fence panel", 0.25, "Outdoors/Fencing/Fence Panels",
      ["Fence Panel", "Privacy Fence Panel", "Picket Fence Panel", "Fencing Panel"],
      ["fence panel", "fence panels", "fencing", "fence"], ["Outdoor Essentials", "Veranda", "Barrette"],
      {"material": ["Cedar*2", "Vinyl*2", "Pressure-Treated Pine*2", "Steel"],
       "size": [V("6 ft. x 8 ft.", ["6 ft. x 8 ft.", "6 ft. H x 8 ft. W"], ["6x8", "6 ft x 8 ft"], w=3),
                V("4 ft. x 8 ft.", ["4 ft. x 8 ft.", "4 ft. H x 8 ft. W"], ["4x8", "4 ft x 8 ft"]),
                V("6 ft. x 6 ft.", ["6 ft. x 6 ft.", "6 ft. H x 6 ft. W"], ["6x6", "6 ft x 6 ft"])],
       "color": ["White*2", "Natural*2", "Black"]},
      "{brand} {size} {material} {mod} {noun} {suffix} {in_color}", (39, 299), ["Flat Top", "Privacy", "Shadowbox"],
      [""], ["ready to install between posts", "rot-resistant"], ["Posts and concrete sold separately"]),
]  # fmt: skip

LENGTHS = ["10 ft.", "10 ft.", "5 ft.", "2 ft.", "100 ft.", "20 ft."]
SERIES = ["Pro", "Elite", "Max", "Select", "Heavy Duty", "Contractor", "Essentials", "Classic", "Ultra", "Premium"]
OPENERS = ["This {noun} is built for everyday projects", "A dependable {noun} for pros and DIYers",
           "Upgrade to this {noun}", "Get the job done with this {noun}", "The {noun} you can count on"]  # fmt: skip
GENERIC_EXTRAS = [
    "Backed by a limited lifetime warranty", "Professional-level results", "Ships in 2-3 business days",
    "Easy to install", "Our best-selling model", "Rated 4.6 out of 5 by customers", "Free returns within 90 days",
    "Meets ANSI standards", "Compact design saves space", "Designed for DIY and pro users",
]  # fmt: skip
# Descriptive queries: the needs whose answer is a fixed set of types, and how a shopper says them.
PURPOSES = [
    (["tool to cut tile", "tile cutting tool", "cut porcelain tile"], ["tile saw"]),
    (["tool to measure distance", "measure a room"], ["tape measure"]),
    (["cut curves in wood", "cut curved shapes"], ["jigsaw"]),
    (["cut down a tree", "cut firewood"], ["chainsaw"]),
    (["clean the driveway", "clean siding and deck"], ["pressure washer"]),
    (["seal around the bathtub", "seal gaps around windows"], ["caulk"]),
    (["blow leaves off the driveway", "clear leaves quickly"], ["leaf blower"]),
    (["sand wood smooth", "smooth wood surfaces"], ["sander"]),
    (["dig a hole", "dig in the garden"], ["shovel"]),
    (["filter for my furnace", "hvac filter"], ["air filter"]),
    (["fix a leaking toilet", "toilet keeps refilling"], ["toilet repair"]),
    (["haul mulch and dirt", "move dirt around the yard"], ["wheelbarrow"]),
    (["fix a dripping faucet", "leaky faucet repair"], ["faucet cartridge"]),
    (["grind metal", "cut metal with a wheel"], ["angle grinder"]),
    (["trim the hedges", "shape shrubs"], ["hedge trimmer"]),
    (["tighten bolts", "loosen nuts and bolts"], ["wrench", "socket set"]),
    (["cook outdoors", "backyard barbecue"], ["grill"]),
    (["reach a high ceiling", "climb to the gutters"], ["ladder"]),
    (["detect fire in the house", "alarm for fire"], ["smoke detector"]),
    (["keep the garage organized", "organize the garage"], ["shelving unit", "storage bin"]),
    (["unclog a drain", "clogged sink"], ["plunger", "drain snake"]),
    (["find studs in the wall", "locate wall studs"], ["stud finder"]),
    (["protect my eyes", "eye protection for sawing"], ["safety glasses"]),
    (["inflate car tires", "power air tools"], ["air compressor"]),
    (["strip old paint", "remove paint with heat"], ["heat gun"]),
    (["clear snow from the driveway", "remove snow"], ["snow blower", "snow shovel"]),
    (["water the lawn", "watering the grass"], ["sprinkler"]),
    (["light up the job site", "lighting for a work area"], ["work light"]),
]
# Things this shop does not sell, and nonsense: none of these words may occur in the catalog.
ABSENT = [
    "running shoes", "espresso machine", "dog food", "yoga mat", "smartphone case", "wedding dress", "baby stroller",
    "lipstick", "game console", "guitar picks", "tennis racket", "sushi", "perfume", "winter parka", "jeans",
    "laptop", "headphones", "board game", "vitamins", "cat litter", "coffee beans", "novel", "sunglasses",
    "wristwatch", "bicycle helmet", "swimsuit", "teddy bear", "printer ink", "shampoo", "protein shake", "wine",
    "teapot", "sneakers", "mascara", "poker chips", "violin", "skateboard", "aquarium", "diapers", "cheese",
    "chocolate", "pajamas", "necklace", "textbook", "puppy toys", "ski goggles", "hair dryer", "toothpaste",
]  # fmt: skip
NONSENSE_COUNT = 10

WORD = re.compile(r"[a-z0-9]+")


def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english").stemWord
    except ImportError:  # the exact-word check still runs
        return lambda word: word


# --------------------------------------------------------------------------------------------------------------
# Products.


def _pick(rng: random.Random, values: list[Value]) -> Value:
    return rng.choices(values, weights=[v.weight for v in values])[0]


def _front(rng: random.Random, items: list[str]) -> str:
    """One of the items, the first ones more likely (a title's usual noun before its variants)."""
    return rng.choices(items, weights=[1 / (i + 1) for i in range(len(items))])[0]


P_TITLE = {"power": 0.97, "size": 0.85, "material": 0.6, "color": 0.7, "room": 0.8, "use": 0.75, "sheen": 0.85,
           "fuel": 0.85, "rating": 0.9, "kind": 0.97, "poles": 0.8}  # fmt: skip
P_ATTRIBUTE = 0.8
P_DESCRIPTION = 0.25
ATTRIBUTE_KEY = {"power": "power source", "rating": "MERV rating"}
DESCRIPTION_LABEL = {"power": "Power source", "size": "Size", "material": "Material", "color": "Finish",
                     "room": "Room", "use": "Use", "sheen": "Sheen", "fuel": "Fuel type",
                      "rating": "Rating"}  # fmt: skip


def _fill(form: str, rng: random.Random, brand: Brand) -> str:
    if "{" not in form:
        return form
    return form.format(platform=brand.platform, amp=rng.choice(["5", "6", "7", "7.5", "8", "10", "12", "15"]),
                       cc=rng.choice(["25.4", "30", "40.2", "50.2", "140", "163", "170", "200"]))  # fmt: skip


def make_product(rng: random.Random, number: int, ptype: ProductType) -> tuple[dict, dict]:
    """A catalog line and the product's structured truth ({dim: Value})."""
    chosen: dict[str, Value] = {dim: _pick(rng, values) for dim, values in ptype.dims.items()}
    candidates = [BRANDS[b] for b in ptype.brands]
    if "power" in chosen and chosen["power"].label in POWER:
        allowed = [b for b in candidates if chosen["power"].label in b.powers]
        candidates = allowed or candidates
    brand = candidates[min(int(rng.paretovariate(1.2)) - 1, len(candidates) - 1)] if rng.random() < 0.5 else \
        rng.choice(candidates)  # fmt: skip
    noun = _front(rng, ptype.nouns)
    parts = {"brand": brand.name if rng.random() > 0.08 else "", "noun": noun, "platform": brand.platform}
    parts["mod"] = rng.choice(ptype.mods) if ptype.mods and rng.random() < 0.6 else ""
    parts["suffix"] = _front(rng, ptype.suffixes) if ptype.suffixes else ""
    parts["series"] = rng.choice(SERIES) if rng.random() < 0.2 else ""
    parts["length"] = rng.choice(LENGTHS)
    attributes: dict[str, str] = {}
    described: list[str] = []
    in_color = ""
    for dim, value in chosen.items():
        form = _fill(_front(rng, value.title), rng, brand)
        slot = f"{{{dim}}}" in ptype.pattern or (dim == "color" and "{in_color}" in ptype.pattern)
        in_title = slot and rng.random() < P_TITLE.get(dim, 0.8)
        in_attributes = rng.random() < P_ATTRIBUTE
        in_description = rng.random() < P_DESCRIPTION
        if not (in_title or in_attributes or in_description):
            in_attributes = True
        if in_title:
            if dim == "color" and "{in_color}" in ptype.pattern:
                in_color = f"in {form}"
            else:
                parts[dim] = form
        if in_attributes:
            attributes[ATTRIBUTE_KEY.get(dim, dim)] = POWER_ATTRIBUTE.get(value.label, value.label)
        if in_description:
            form = _fill(rng.choice(value.title), rng, brand).rstrip(".")
            described.append(f"{DESCRIPTION_LABEL.get(dim, dim.title())}: {form}")
    parts["in_color"] = in_color
    title = ptype.pattern if "size" in parts else ptype.pattern.replace("{size} x {length}", "{length}")
    for key in re.findall(r"{(\w+)}", ptype.pattern):
        title = title.replace(f"{{{key}}}", parts.get(key, ""))
    title = re.sub(r"\s+", " ", title).strip()
    title = re.sub(r"\b(\w+) \1\b", r"\1", title)  # "Multi-Tool Kit Kit"
    attributes["model"] = f"{brand.name[:2].upper()}{rng.randrange(100, 9999)}{rng.choice(['', 'B', 'K', 'D2', 'Z'])}"
    sentences = [rng.choice(OPENERS).format(noun=noun.lower())] if rng.random() < 0.7 else []
    sentences += [d[0].upper() + d[1:] for d in rng.sample(ptype.desc, min(len(ptype.desc), rng.randint(1, 2)))]
    if ptype.extras and rng.random() < 0.6:
        sentences.append(rng.choice(ptype.extras))
    if rng.random() < 0.3:
        sentences.append(rng.choice(GENERIC_EXTRAS))
    text = ". ".join(s.rstrip(".") for s in sentences) + "."
    if rng.random() < 0.4:
        brand_html = f"{brand.name}&reg;" if rng.random() < 0.5 else brand.name
        bullets = "".join(f"<li>{item}</li>" for item in described)
        description = f"<p>{brand_html} &bull; {text}</p>" + (f"<ul>{bullets}</ul>" if bullets else "")
    else:
        description = " ".join([text, *[f"{item}." for item in described]])
    low, high = ptype.price
    price = round(low * (high / low) ** rng.random()) - rng.choice([0.03, 0.01, 0.0, 0.02])
    categories = [ptype.category] + (["Savings/Special Buys"] if rng.random() < 0.05 else [])
    product = {
        "sku": f"HW{number:06d}",
        "name": title,
        "description": description,
        "categories": categories,
        "brand": brand.name,
        "price": f"{max(price, 0.97):.2f}",
        "currency": "USD",
        "in_stock": rng.random() < 0.93,
        "attributes": attributes,
    }
    return product, chosen


# --------------------------------------------------------------------------------------------------------------
# Queries.


@dataclass(frozen=True)
class Need:
    """What a query asks for: product types and constraints (dim, level, value) with level "label" or "family"."""

    types: tuple[str, ...]
    constraints: tuple[tuple[str, str, str], ...] = ()
    brand: str = ""

    @property
    def key(self) -> str:
        return "|".join([",".join(self.types), self.brand, *(":".join(c) for c in self.constraints)])


def _satisfies(truth: dict[str, Value], brand: str, need: Need) -> int:
    """How many of the need's secondary constraints the product misses."""
    missed = int(bool(need.brand) and brand != need.brand)
    for dim, level, target in need.constraints:
        value = truth.get(dim)
        missed += value is None or (value.label if level == "label" else value.family) != target
    return missed


def relevance(need: Need, by_type: dict[str, list[tuple[str, str, dict]]]) -> tuple[dict[str, int], bool] | None:
    """Grades of a need (2: all constraints, 1: one missed), whether grade 1 was left out; None when unusable."""
    grades: dict[str, int] = {}
    for type_key in need.types:
        for sku, brand, truth in by_type.get(type_key, []):
            missed = _satisfies(truth, brand, need)
            if missed == 0:
                grades[sku] = 2
            elif missed == 1:
                grades[sku] = 1
    top = {sku: g for sku, g in grades.items() if g == 2}
    if len(top) < MIN_RELEVANT or len(top) > MAX_RELEVANT:
        return None
    if len(grades) > MAX_RELEVANT:
        return top, True
    return grades, False


def _value_specs(ptype: ProductType, dim: str) -> list[tuple[str, str, list[str]]]:
    """(level, target, query forms) for every way a query may constrain a dimension of the type."""
    specs = []
    families = defaultdict(list)
    for value in ptype.dims[dim]:
        families[value.family].append(value)
    for family, members in families.items():
        for value in members:
            if value.label != family:
                specs.append(("label", value.label, value.query))
        if len(members) > 1 or members[0].label == family:
            forms = members[0].query if len(members) == 1 else next(
                (m.query for m in members if m.label == family), members[0].family_query)  # fmt: skip
            specs.append(("family", family, forms))
    return [s for s in specs if s[2]]


SUFFIX_DIMS = {"size", "rating"}


def _text(rng: random.Random, ptype: ProductType | None, name: str, brand_q: str, dims: list[tuple[str, str]]) -> str:
    pre = [form for dim, form in dims if dim not in SUFFIX_DIMS]
    post = [form for dim, form in dims if dim in SUFFIX_DIMS]
    if post and rng.random() < 0.35:
        pre, post = pre + post, []
    return " ".join(w for w in [brand_q, *pre, name, *post] if w)


def _type_name(rng: random.Random, ptype: ProductType) -> str:
    r = rng.random()
    if r < 0.6 or len(ptype.names) < 3:
        return ptype.names[0]
    if r < 0.75:
        return ptype.names[1]
    return rng.choice(ptype.names[2:])


TARGETS = {"type": 110, "brand": 210, "power": 70, "material": 120, "size": 130, "color": 130, "other": 90,
           "combo": 130, "purpose": 40}  # fmt: skip


def check_query_forms(types: list[ProductType]) -> None:
    """Within a type, one wording must not mean two constraints ("brass faucet": a material or a finish?)."""
    clashes = []
    for ptype in types:
        meaning: dict[str, set] = defaultdict(set)
        for dim in ptype.dims:
            for level, target, forms in _value_specs(ptype, dim):
                for form in forms:
                    meaning[form].add((dim, level, target))
        clashes += [f"{ptype.key}: {form!r} -> {sorted(m)}" for form, m in meaning.items() if len(m) > 1]
    if clashes:
        raise SystemExit("query wordings with two meanings:\n  " + "\n  ".join(clashes))


def make_queries(
    rng: random.Random, by_type, types: dict[str, ProductType]
) -> tuple[list[tuple[Need, list[str]]], Counter]:
    """Needs with their query wordings (1-4 words), by kind up to TARGETS."""
    stats = Counter()
    candidates: dict[str, list[tuple[Need, list[str]]]] = defaultdict(list)
    for ptype in types.values():
        alternative = rng.choice(ptype.names[1:])
        candidates["type"].append((Need((ptype.key,)), [ptype.names[0], alternative]))
        present = Counter(brand for _, brand, _ in by_type[ptype.key])
        for brand in present:
            forms = [f"{q} {_type_name(rng, ptype)}" for q in BRANDS[brand].query[:2]]
            candidates["brand"].append((Need((ptype.key,), brand=brand), forms[: 1 + (rng.random() < 0.3)]))
        for dim in ptype.dims:
            kind = dim if dim in ("power", "material", "size", "color") else "other"
            for level, target, forms in _value_specs(ptype, dim):
                need = Need((ptype.key,), ((dim, level, target),))
                texts = [_text(rng, ptype, _type_name(rng, ptype), "", [(dim, rng.choice(forms))])]
                if rng.random() < 0.25:
                    texts.append(_text(rng, ptype, _type_name(rng, ptype), "", [(dim, rng.choice(forms))]))
                candidates[kind].append((need, texts))
                # Brand plus this constraint.
                for brand in rng.sample(sorted(present), min(3, len(present))):
                    brand_q = BRANDS[brand].query[0]
                    text = _text(rng, ptype, _type_name(rng, ptype), brand_q, [(dim, rng.choice(forms))])
                    candidates["combo"].append((Need((ptype.key,), ((dim, level, target),), brand), [text]))
    for phrases, type_keys in PURPOSES:
        candidates["purpose"].append((Need(tuple(type_keys)), phrases))
    chosen: list[tuple[Need, list[str]]] = []
    seen_texts: set[str] = set()
    for kind, target in TARGETS.items():
        pool = candidates[kind]
        rng.shuffle(pool)
        taken = 0
        for need, texts in pool:
            if taken >= target:
                break
            texts = [t for t in dict.fromkeys(texts) if len(t.split()) <= 4 and t not in seen_texts]
            if not texts:
                continue
            graded = relevance(need, by_type)
            if graded is None:
                stats[f"{kind} unusable"] += 1
                continue
            seen_texts.update(texts)
            chosen.append((need, texts))
            stats[kind] += 1
            taken += 1
    return chosen, stats


def is_dev(need: Need) -> bool:
    return int(hashlib.sha1(need.key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < DEV_SHARE


def absent_queries(rng: random.Random) -> list[str]:
    letters = "bcdfghjklmnpqrstvwxz"
    nonsense = []
    for _ in range(NONSENSE_COUNT):
        words = [
            "".join(rng.choice(letters + "aeiouy") for _ in range(rng.randint(5, 9))) for _ in range(rng.randint(1, 2))
        ]
        nonsense.append(" ".join(words))
    return ABSENT + nonsense


def check_absent(queries: list[str], vocabulary: set[str]) -> None:
    stem = _stemmer()
    stems = {stem(w) for w in vocabulary}
    clashes = []
    for query in queries:
        for word in WORD.findall(query.lower()):
            if word in vocabulary or stem(word) in stems:
                clashes.append(f"{query!r}: {word!r}")
    if clashes:
        raise SystemExit("absent queries whose words occur in the catalog:\n  " + "\n  ".join(clashes))


def product_words(product: dict) -> set[str]:
    text = " ".join([product["name"], re.sub(r"<[^>]+>|&\w+;", " ", product["description"]), *product["categories"],
                     product["brand"], *(str(v) for v in product["attributes"].values())])  # fmt: skip
    return set(WORD.findall(text.lower()))


# --------------------------------------------------------------------------------------------------------------


def generate(out: Path, products: int, seed: int) -> dict:
    started = time.perf_counter()
    rng = random.Random(seed)
    types = {t.key: t for t in TYPES}
    names = Counter(name for t in TYPES for name in t.names)
    duplicates = [n for n, c in names.items() if c > 1]
    if duplicates:
        raise SystemExit(f"query names shared by several types: {duplicates}")
    check_query_forms(TYPES)
    cumulative, total = [], 0.0
    for t in TYPES:
        total += t.weight
        cumulative.append(total)
    by_type: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    vocabulary: set[str] = set()
    brands_used = Counter()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "products.jsonl", "w", encoding="utf-8") as handle:
        for number in range(1, products + 1):
            ptype = rng.choices(TYPES, cum_weights=cumulative)[0]
            product, truth = make_product(rng, number, ptype)
            by_type[ptype.key].append((product["sku"], product["brand"], truth))
            brands_used[product["brand"]] += 1
            vocabulary |= product_words(product)
            handle.write(json.dumps(product, ensure_ascii=False) + "\n")
    made = time.perf_counter()

    query_rng = random.Random(seed * 1_000_003 + 1)
    chosen, kinds = make_queries(query_rng, by_type, types)
    absent = absent_queries(query_rng)
    check_absent(absent, vocabulary)
    (out / "eval").mkdir(exist_ok=True)
    files = {"text_dev.jsonl": [], "text_test.jsonl": []}
    needs = {"text_dev.jsonl": 0, "text_test.jsonl": 0}
    grade1_left_out = 0
    for need, texts in chosen:
        grades, dropped = relevance(need, by_type)
        grade1_left_out += dropped
        name = "text_dev.jsonl" if is_dev(need) else "text_test.jsonl"
        needs[name] += 1
        ordered = dict(sorted(grades.items(), key=lambda item: (-item[1], item[0])))
        files[name] += [{"query": text, "relevant": ordered} for text in texts]
    for name, lines in files.items():
        with open(out / "eval" / name, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(line) + "\n" for line in lines)
    with open(out / "eval" / "absent.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"query": q, "relevant": {}}) + "\n" for q in absent)
    sizes = {name: [len(line["relevant"]) for line in lines] for name, lines in files.items()}
    return {
        "products": products,
        "types": len(by_type),
        "brands": len(brands_used),
        "products per type (min/median/max)": _spread([len(v) for v in by_type.values()]),
        "queries by kind": dict(kinds),
        "queries": {name: len(lines) for name, lines in files.items()} | {"absent.jsonl": len(absent)},
        "needs": needs,
        "relevant per query (mean, min/median/max)": {n: (round(sum(s) / len(s), 1), _spread(s)) for n,
         s in sizes.items()},
        "grade-2 per query (mean)": {n: round(sum(sum(1 for g in line["relevant"].values() if g == 2) for line in lines)
                                              / len(lines), 1) for n, lines in files.items()},
        "needs with grade 1 left out (over MAX_RELEVANT)": grade1_left_out,
        "vocabulary": len(vocabulary),
        "seconds (products / all)": (round(made - started, 1), round(time.perf_counter() - started, 1)),
    }  # fmt: skip


def _spread(values: list[int]) -> str:
    values = sorted(values)
    return f"{values[0]}/{values[len(values) // 2]}/{values[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="output catalog folder")
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    summary = generate(args.out, args.products, args.seed)
    for key, value in summary.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    sys.exit(main())
