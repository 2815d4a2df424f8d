"""Writes _static/fonts/course-marks.woff, the fallback font for the marks the exercise checks print.

course_lib's checks print ✅ (U+2705), ❌ (U+274C) and ✏️ (U+270F), which many readers' fonts lack
(Debian without fonts-noto-color-emoji shows an empty box). course.css lists this font last in
every font stack, with a unicode-range, so a reader with an emoji font still sees the colour emoji
and everyone else sees DejaVu Sans's heavy check mark, heavy ballot X and pencil instead of a box.

The font is a three-glyph subset of DejaVu Sans (its licence, the Bitstream Vera licence, allows
modified copies under another name: "Course Marks"), about 2 KB. Run it again only to change the
glyphs: `.venv/bin/python scripts/make_marks_font.py [path/to/DejaVuSans.ttf]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).resolve().parents[1] / "_static" / "fonts" / "course-marks.woff"
FAMILY = "Course Marks"
# code point shown -> DejaVu Sans code point whose glyph stands in for it
MARKS = {0x2705: 0x2714, 0x274C: 0x2718, 0x270F: 0x270F}


def default_source() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def make_font(source: Path, out: Path = OUT) -> Path:
    font = TTFont(source)
    cmap = font.getBestCmap()
    glyphs = {shown: cmap[standin] for shown, standin in MARKS.items()}
    options = subset.Options()
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and licence entries
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(set(glyphs.values())))
    subsetter.subset(font)
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap = dict(glyphs)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(FAMILY.replace(" ", ""), record.nameID, record.platformID, record.platEncID, record.langID)
    font.flavor = "woff"
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)
    return out


if __name__ == "__main__":
    path = make_font(Path(sys.argv[1]) if len(sys.argv) > 1 else default_source())
    print(f"wrote {path} ({path.stat().st_size} bytes)")
