"""Snapshot builders for render tests and the benchmark, modelled on seed 001 (a real issue)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

BASE_URL = "https://news.example.org"

SECTIONS = [
    ("repression", "Repression of independent voices", "Pressure on journalists, bloggers and activists."),
    ("persecution", "Intensified political persecution", "Detentions, charges and trials of peaceful activists."),
    ("psychiatry", "Political persecution – Punitive psychiatry", "Forced psychiatric examinations and placements."),
    ("solidarity", "Solidary action organised by human rights activists on the ground", ""),
    ("silencing-state", "Tokayev’s “Silencing state”", "Laws and rulings that narrow civic space."),
    ("international", "International corner", "What parliaments, governments and companies abroad say and do."),
]

ITEMS = [
    ("Please, listen", "Activists and victims of political persecution from different cities published a video "
     "addressed to representatives of democratic states on the deteriorating human rights situation. Watch the "
     "powerful appeal.", "Almaty", "solidarity_action"),
    ("Activist held without proper medical care", "Murat Baimagambetov, an arbitrarily detained activist, is "
     "experiencing serious health issues, yet the authorities are not providing him with proper treatment.\n\n"
     "His relatives have filed three complaints; none has been answered.", "Nur-Sultan", "detention"),
    ("Activist arrested before the elections", "Nurgul Kaluova is arrested and is being held in a pre-trial "
     "detention facility in an attempt to stop her activism prior to the parliamentary elections.", "Shymkent",
     "arrest"),
    ("Blogger released from the mental health centre", "On 11 December, blogger and journalist Aigul Utepova was "
     "released from the mental health centre to which she had been forcibly sent on 23 November. After a "
     "re-examination, psychiatrists concluded that she was mentally healthy. Still, her house arrest was extended "
     "until 17 January.", "Nur-Sultan", "psychiatric_placement"),
    ("Philanthropist persecuted for paying fines of oppositionists", "Barlyk Mendygaziyev is persecuted for paying "
     "politically motivated fines on behalf of peaceful oppositionists and for supporting the families of political "
     "prisoners. His family members are subjected to pressure through illegal searches and interrogations.", None,
     "pressure_on_relatives"),
    ("New law on “charity”", "The attempt to regulate through charitable registries who can donate money & to "
     "introduce a registration process for volunteers is the next step in introducing total control over the "
     "funding of civil society <and> civil activism.", None, "legislation"),
    ("Italian Senator demands condemnation of abuses", "On 25 November, Senator Emma Bonino submitted a written "
     "question to the Minister of Foreign Affairs on the deteriorating human rights situation, asking for targeted "
     "sanctions.", "Rome", "international"),
    ("Tech giants block web surveillance again", "Apple, Google, Microsoft and Mozilla banned the security "
     "certificate imposed by the government, confirming that the authorities’ justification made zero technical "
     "sense.", None, "blocking"),
]

LINK_HOSTS = ["https://www.rferl.org/a/", "https://vlast.kz/novosti/", "https://odfoundation.eu/a/"]


def make_snapshot(items: int = 40, *, language: str = "en", withheld: tuple[int, int] = (3, 2),
                  persons: bool = True, number: int = 3, period: str = "2026-W47",
                  published_at: str | None = "2026-11-23T08:00:00+00:00", base_url: str = BASE_URL) -> dict[str, Any]:
    """A realistic issue: `items` items spread over the six sections of seed 001."""
    counter = itertools.count(1)
    sections: list[dict[str, Any]] = [
        {"slug": slug, "title": title, "description": desc, "items": []} for slug, title, desc in SECTIONS
    ]
    for i in range(items):
        headline, text, place, kind = ITEMS[i % len(ITEMS)]
        item_id = next(counter) + 100
        links = [{"url": f"{LINK_HOSTS[(i + k) % 3]}{item_id}-{k}.html?utm_source=x&a=1",
                  "title": f"Report {k + 1}"} for k in range(1 + i % 3)]
        if i % 5 == 0:
            links.append({"url": f"{base_url}/articles/{item_id}", "title": "Our statement"})
        sections[i % len(sections)]["items"].append({
            "id": item_id, "headline": f"{headline}" if i < len(ITEMS) else f"{headline} ({i + 1})",
            "text": text, "date": f"2026-11-{16 + i % 7:02d}", "date_precision": ("day", "week", "month")[i % 3],
            "place": place, "kind": kind, "links": links,
        })
    return {
        "version": 1,
        "issue": {
            "number": number, "period": period, "period_start": "2026-11-16", "period_end": "2026-11-22",
            "title": "Please, listen to the citizens of Kazakhstan",
            "intro": "January 10 is upon us, and with it comes a critical time for civil society. With the "
                     "parliamentary election looming large, the authorities are trying to ruthlessly silence any "
                     "voice of dissent.\n\nTo support independent voices and to keep decision-makers informed about "
                     "the true state of the human rights situation on the ground, we publish this newsletter "
                     "based on our monitoring of human rights abuse.",
            "language": language, "preheader": "Detentions before the elections, punitive psychiatry, and a new "
                                                "law on charity.",
            "published_at": published_at,
        },
        "organisation": {"name": "Open Dialogue Monitoring", "base_url": base_url},
        "sections": sections,
        "withheld": {"incidents": withheld[0], "cities": withheld[1]},
        "persons_summary": {"as_of": "2026-11-22", "counts": [
            {"status": "convicted_prison", "label": "held in prison", "count": 17},
            {"status": "suspended_sentence", "label": "suspended sentence", "count": 8},
            {"status": "forced_psychiatric_placement", "label": "forcibly held in a mental hospital", "count": 1},
            {"status": "prosecution_continues", "label": "prosecution continues", "count": 2},
        ]} if persons else None,
    }


def series(count: int = 3, items: int = 5) -> list[dict[str, Any]]:
    """Consecutive weekly issues, oldest first."""
    out = []
    for n in range(count):
        snap = make_snapshot(items, number=n + 1, period=f"2026-W{45 + n:02d}", withheld=(n, n))
        snap["issue"]["period_start"] = f"2026-11-{2 + 7 * n:02d}"
        snap["issue"]["period_end"] = f"2026-11-{8 + 7 * n:02d}"
        snap["issue"]["published_at"] = f"2026-11-{9 + 7 * n:02d}T08:00:00+00:00"
        snap["issue"]["title"] = f"Week {45 + n}: listen to the citizens"
        out.append(snap)
    return out


def variant(snapshot: dict[str, Any], **issue: Any) -> dict[str, Any]:
    out = copy.deepcopy(snapshot)
    out["issue"].update(issue)
    return out


def with_subjects_and_places(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with seed 004's metadata on its first item and seed 002's places block."""
    out = copy.deepcopy(snapshot)
    first = out["sections"][0]["items"][0] if out["sections"][0]["items"] else next(
        s["items"][0] for s in out["sections"] if s["items"])
    first["kind_label"] = "Detention"
    first["subjects"] = [{"name": "Aigul Utepova", "role": "Journalist"}, {"name": "B. N.", "role": "Trade unionist"}]
    first["related"] = [{"url": f"{BASE_URL}/issues/2026-W45/#item-7", "title": "Blogger sent to a mental health centre"}]
    out["places"] = {"incidents": 12, "cities": 7, "rows": [
        {"region": "Almaty", "city": None, "count": 5},
        {"region": "Almaty", "city": "Almaty", "count": 3},
        {"region": "Abai Region", "city": None, "count": 4},
        {"region": "Mangystau Region", "city": None, "count": 3},
        {"region": "Mangystau Region", "city": "Zhanaozen", "count": 1},
    ]}
    return out


_TO_CYRILLIC = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                             "абцдефгхийклмнопярстувшхызАБЦДЕФГХИЙКЛМНОПЯРСТУВШХЫЗ")


def make_edition(snapshot: dict[str, Any], language: str = "ru") -> dict[str, Any]:
    """A further edition of `snapshot` for benchmarks and render tests: the same issue, its words in
    Cyrillic letters (so the bytes and the quoted-printable cost are those of a Russian edition)."""
    import copy

    data = copy.deepcopy(snapshot)
    data["edition"] = language
    data["issue"]["language"] = language
    data["issue"]["title"] = data["issue"]["title"].translate(_TO_CYRILLIC)
    data["issue"]["intro"] = data["issue"]["intro"].translate(_TO_CYRILLIC)
    data["issue"]["preheader"] = data["issue"].get("preheader", "").translate(_TO_CYRILLIC)
    for section in data["sections"]:
        section["title"] = section["title"].translate(_TO_CYRILLIC)
        for item in section["items"]:
            item["headline"] = item["headline"].translate(_TO_CYRILLIC)
            item["text"] = item["text"].translate(_TO_CYRILLIC)
            item.pop("html", None)
    return data
def demo_picture(width: int = 1600, height: int = 1000, seed: int = 0) -> bytes:
    """A JPEG photo-like picture (sky, hills, a building: no person's likeness) with EXIF (GPS, camera)
    attached, as a phone would send it."""
    import io
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    img = Image.new("RGB", (width, height), (120 + seed * 7 % 60, 160, 210))
    draw = ImageDraw.Draw(img)
    for k in range(5):
        y = height // 2 + k * height // 12
        draw.polygon([(0, height), (0, y), (width // 3, y - rnd.randint(20, height // 6)),
                      (2 * width // 3, y + rnd.randint(-40, 40)), (width, y - rnd.randint(0, 60)), (width, height)],
                     fill=(40 + k * 20, 90 + k * 15, 50 + k * 10))
    draw.rectangle([width // 2, height // 3, width // 2 + width // 6, height - height // 5], fill=(200, 190, 170))
    for _ in range(400):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.point((x, y), fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    img = img.filter(ImageFilter.GaussianBlur(1))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0131] = "secret-firmware"  # Software
    exif[0x0112] = 1
    exif[0x8825] = {1: "N", 2: (43.0, 15.0, 0.0), 3: "E", 4: (76.0, 55.0, 0.0)}  # GPS
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92, exif=exif.tobytes(), comment=b"taken by a volunteer")
    return out.getvalue()


def with_formats(snapshot: dict[str, Any], *, photos: int = 5) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The snapshot with items of every format (testimony, statement, timeline, news) and `photos` photos
    on testimonies and news items, and the photos' published copies by file name."""
    from newsletter import media

    snap = copy.deepcopy(snapshot)
    files: dict[str, bytes] = {}
    items = [it for s in snap["sections"] for it in s["items"]]
    for n, item in enumerate(items):
        fmt = ("testimony", "statement", "timeline", "news")[n % 4]
        if fmt != "news":
            item["format"] = fmt
        if fmt == "testimony":
            item["quote"] = {"text": "They took my phone and told me to forget about the union.",
                             "speaker": "a trade unionist from Zhanaozen"}
        elif fmt == "statement":
            item["quote"] = {"text": "We call on the authorities to release every person detained for a peaceful "
                                     "protest and to stop the prosecution of trade unionists.",
                             "speaker": "Twelve human rights organisations", "addressee": "The President of Kazakhstan"}
        elif fmt == "timeline":
            item["timeline"] = [{"date": "January 4–5, 2022", "text": "Protests spread from Zhanaozen to Almaty."},
                                {"date": "January 6, 2022", "text": "Internet shut down across the country."},
                                {"date": "January 7, 2022", "text": "Shoot-to-kill order announced."}]
    photo_items = [it for it in items if it.get("format") in (None, "testimony")][:photos]
    for k, item in enumerate(photo_items):
        derived = media.derive(demo_picture(seed=k))
        files[derived.web.name] = derived.web.data
        files[derived.email.name] = derived.email.data
        item["photo"] = {"file": derived.web.name, "width": derived.web.width, "height": derived.web.height,
                         "email_file": derived.email.name, "email_width": derived.email.width,
                         "email_height": derived.email.height, "alt": f"Hills and a building at dusk ({k + 1})",
                         "caption": "Zhanaozen, January 2022", "credit": "Open Dialogue Foundation"}
    return snap, files
