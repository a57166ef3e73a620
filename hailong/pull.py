"""Stage: pull. Copy the rows the shared sheet gained since the last pull into data/raw.csv.

Local kind: the embedded sheet `<out>/<id>/sheet.csv`. The raw store remembers how many of the
sheet's rows it holds, so a rerun copies nothing twice and a pull killed mid-way is redone whole.
Apps Script kind: the Google Sheet(s), through `hailong.sheets`.
"""

from __future__ import annotations

from pathlib import Path

from hailong.layout import Layout
from hailong.localsheet import read_rows
from hailong.rawstore import RawStore
from hailong.survey import Survey

LOCAL_SOURCE = "local:sheet.csv"


def pull(survey: Survey, out: str | Path) -> str:
    """Pull new rows for `survey`; returns a one-line summary."""
    out = Path(out)
    layout = Layout(out, survey.id)
    store = RawStore(layout, survey.response_columns)
    if survey.collector.kind == "apps_script":
        from hailong.sheets import pull_sheets  # Google client libraries load only when needed

        return pull_sheets(survey, out, store)
    return pull_local(survey, layout, store)


def pull_local(survey: Survey, layout: Layout, store: RawStore) -> str:
    sheet = layout.sheet_csv
    if not sheet.exists():
        store.append(LOCAL_SOURCE, survey.response_columns, [])  # raw.csv with its header
        return f"no answers yet: {sheet} does not exist (0 rows pulled into {store.path})"
    header, rows = read_rows(sheet, store.rows_from(LOCAL_SOURCE))
    if not header:
        header = survey.response_columns
    added = store.append(LOCAL_SOURCE, header, rows)
    return f"pulled {added} new rows (total {_total(store)}) into {store.path}"


def _total(store: RawStore) -> int:
    return sum(int(s.get("rows", 0)) for s in store.state.get("sources", {}).values())
