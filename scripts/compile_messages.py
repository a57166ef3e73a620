"""Compile hailong's message catalogs (.po) to the .mo files gettext reads (`make messages`).

Babel's compiler stamps the time of the run into each .mo; this one writes a fixed date, so a
.mo changes only when its .po does and the committed files stay quiet in merges.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "hailong" / "locale"
FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
    with open(po, "rb") as fh:
        catalog = read_po(fh)
    catalog.creation_date = catalog.revision_date = FIXED
    untranslated = [m.id for m in catalog if m.id and not m.string]
    with open(po.with_suffix(".mo"), "wb") as fh:
        write_mo(fh, catalog)
    print(f"{po}: {len(catalog)} messages, {len(untranslated)} without a translation")
