"""Matching, simulated: 1,000 visitors over 8 displays against generated catalogs.

Each visitor gets gallery.catalog.choose (the ladder and the no-repeat rule ChoosePortrait uses),
with the display's last NO_REPEAT portraits as DynamoDB's byDisplay index would give them. The
catalogs are the painting theme's plan (gallery.catalog_plan.plan), every item approved: its first
24 items and the full plan. Writes the "matching" section of bench/RESULTS.md.

The visitor mix (seeded, so the figures are reproducible) is a guess at an event in Seoul with
tourists, stated in the output: gender 50/50; 80 % local visitors, whose measured tones sit mostly
in "light" and "intermediate" (ITA of Korean skin is about 35-50 degrees, and a photo moves it
by about a band either way), and 20 % tourists of every tone; young (under 35, teenagers
included) 60 %, adult 32 %, senior 8 %; 3 % of photos give no tone (greyscale, too little skin).

    .venv/bin/python bench/matching.py [--visitors 1000] [--displays 8] [--seed 8]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/gallery/python"))
from gallery import catalog, catalog_plan, skin_tone  # noqa: E402

GENDERS = {"female": 0.5, "male": 0.5}
LOCAL_SHARE = 0.8
LOCAL_TONES = dict(zip(skin_tone.GROUPS, (0.10, 0.40, 0.35, 0.13, 0.02, 0.0), strict=True))
TOURIST_TONES = dict(zip(skin_tone.GROUPS, (0.25, 0.20, 0.15, 0.15, 0.15, 0.10), strict=True))
AGES = {"young": 0.60, "adult": 0.32, "senior": 0.08}
NO_TONE = 0.03
MIX = (
    "gender 50/50; 80 % local (tones: very light 10 %, light 40 %, intermediate 35 %, tan 13 %, "
    "brown 2 %), 20 % tourists (very light 25 %, light 20 %, intermediate 15 %, tan 15 %, brown 15 %, "
    "dark 10 %); young 60 %, adult 32 %, senior 8 %; 3 % with no measurable tone"
)


def draw(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def visitors(n: int, displays: int, seed: int) -> list[tuple[str, str, dict]]:
    """(visit id, display, traits) in arrival order."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tones = LOCAL_TONES if rng.random() < LOCAL_SHARE else TOURIST_TONES
        traits = {"gender": draw(rng, GENDERS), "ageBand": draw(rng, AGES)}
        tone = draw(rng, tones)
        if rng.random() >= NO_TONE:
            traits["skinTone"] = tone
        out.append((f"{rng.getrandbits(128):032x}", str(rng.randrange(displays) + 1), traits))
    return out


def plan_catalog(limit: int | None) -> list[dict]:
    return [
        {
            "theme": i.theme,
            "portraitId": i.portrait_id,
            "key": f"catalog/{i.theme}/{i.portrait_id}.png",
            "status": "APPROVED",
            "gender": i.dimensions["gender"],
            "ageBand": i.dimensions["age"],
            "skinTone": i.dimensions["skinTone"],
        }
        for i in catalog_plan.plan("painting", limit)
    ]


def simulate(candidates: list[dict], people: list[tuple[str, str, dict]], k: int) -> dict:
    recent: dict[str, list[str]] = {}
    shown: Counter[str] = Counter()
    rungs: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    known: Counter[str] = Counter()
    repeats = 0
    for visit_id, display, traits in people:
        last = recent.setdefault(display, [])
        portrait, rung = catalog.choose(candidates, visit_id, traits, last[:k])
        # Counted against the last K whatever K the run uses, so K=0 shows what the rule prevents.
        repeats += portrait["portraitId"] in last[: catalog.NO_REPEAT]
        last.insert(0, portrait["portraitId"])
        shown[portrait["portraitId"]] += 1
        rungs[rung] += 1
        for t in catalog.MATCHED:
            if traits.get(t):
                known[t] += 1
                matched[t] += catalog.matches(portrait, t, traits[t])
    uniform = len(people) / len(candidates)
    ratios = sorted(shown.get(p["portraitId"], 0) / uniform for p in candidates)
    return {
        "items": len(candidates),
        "k": k,
        "max": ratios[-1],
        "min": ratios[0],
        "median": statistics.median(ratios),
        "never": sum(r == 0 for r in ratios),
        "repeats": repeats,
        "rungs": rungs,
        "matched": {t: matched[t] / known[t] for t in catalog.MATCHED},
        "n": len(people),
    }


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visitors", type=int, default=1000)
    ap.add_argument("--displays", type=int, default=8)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    people = visitors(args.visitors, args.displays, args.seed)
    runs = [
        (f"painting, first {n} of the plan" if n else "painting, full plan", simulate(plan_catalog(n), people, k))
        for n in (24, None)
        for k in (catalog.NO_REPEAT, 0)
    ]
    mix = Counter(t.get("skinTone", "no tone") for _, _, t in people)
    mix_line = ", ".join(f"{g} {mix[g]}" for g in (*skin_tone.GROUPS, "no tone"))
    lines = [
        "## Matching (simulated visitors)",
        "",
        f"Command: `make bench-matching` (`.venv/bin/python bench/matching.py --visitors {args.visitors} "
        f"--displays {args.displays} --seed {args.seed}`)  ",
        f"{args.visitors} visitors in arrival order, each on one of {args.displays} displays at random, chosen by "
        "`gallery.catalog.choose` with its display's last portraits (newest first); catalogs from "
        "`gallery.catalog_plan.plan`, all approved.  ",
        f"Visitor mix (a guess at a Seoul event with tourists): {MIX}.  ",
        f"Drawn: {mix_line}.",
        "",
        "Share = a portrait's visits over a uniform share (visitors / portraits). Repeats = visits whose "
        f"portrait the same display showed in its last {catalog.NO_REPEAT} visits (K=0 runs the ladder "
        "without the rule, to show what it prevents). Matched = the portrait's attribute equals the "
        "visitor's (or is 'any'), over visitors for whom it is known. Shares follow the visitor mix, "
        "not a uniform draw: the cells of common visitors (young women and men of light and intermediate "
        "tone) are shown several times a uniform share, those of rare ones (dark seniors) seldom or never.",
        "",
        "| catalog | items | K | share max | share median | share min | never shown | repeats within 6 "
        "| gender matched | skin tone matched | age band matched |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in runs:
        m = r["matched"]
        lines.append(
            f"| {name} | {r['items']} | {r['k']} | {r['max']:.2f} | {r['median']:.2f} | {r['min']:.2f} | "
            f"{r['never']} | {r['repeats']} | {pct(m['gender'])} | {pct(m['skinTone'])} | {pct(m['ageBand'])} |"
        )
    lines += ["", "Rungs used (share of visits):", "", "| rung | " + " | ".join(
        f"{r['items']} items, K={r['k']}" for _, r in runs) + " |", "|---|" + "---|" * len(runs)]  # fmt: skip
    for rung in catalog.RUNGS:
        lines.append(f"| {rung} | " + " | ".join(pct(r["rungs"][rung] / r["n"]) for _, r in runs) + " |")
    md = "\n".join(lines)
    print(md)
    sys.path.insert(0, str(ROOT / "bench"))
    import results_file

    results_file.write_section("matching", md)
    full = [r for name, r in runs if r["k"] == catalog.NO_REPEAT]
    return 0 if all(r["repeats"] == 0 for r in full) else 1


if __name__ == "__main__":
    raise SystemExit(main())
