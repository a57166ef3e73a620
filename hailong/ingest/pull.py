"""Stage: pull. Copy the rows the shared sheet gained since the last pull into data/raw.csv.

One pull at a time per survey: the whole pull holds a lock beside raw.csv, so two pulls started
together (a cron job and a person, two terminals) run one after the other instead of both
copying the same rows.

Local kind: the embedded sheet `<out>/<id>/sheet.csv`. The raw store counts the rows it holds
per sheet, a sheet being known by its fingerprint (a hash of its first row): a rerun
copies nothing twice, a pull killed mid-way is redone whole, and a sheet moved aside and
replaced by a new one is a new source whose rows are all copied.
Apps Script kind: the Google Sheet(s), through `hailong.ingest.sheets`.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from hailong.collect.localsheet import read_sheet
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.ingest.rawstore import RawStore
from hailong.layout import Layout
from hailong.survey.load import Survey

LOCAL_SOURCE = "local:sheet.csv"  # a source name is this, "#", the sheet's fingerprint
LOCK_TIMEOUT = 30 * 60  # seconds; a large Google pull paced by the read quota takes minutes


def local_source(fingerprint: str) -> str:
    return f"{LOCAL_SOURCE}#{fingerprint}"


def pull(survey: Survey, out: str | Path) -> str:
    """Pull new rows for `survey`; returns a one-line summary."""
    out = Path(out)
    layout = Layout(out, survey.id)
    layout.data.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(layout.raw_csv) + ".lock", timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise HailongError(
            _("{lock_file}: another pull of survey {id} has held this lock for over {value} "
              "minutes; let it finish, then run pull again",
              lock_file=lock.lock_file, id=survey.id, value=LOCK_TIMEOUT // 60)
        ) from None
    try:
        store = RawStore(layout, survey.response_columns)
        if survey.collector.kind == "apps_script":
            # Google client libraries load only when needed; shards reads every spreadsheet
            # of [sheets] spreadsheet_id, several at once
            from hailong.ingest.shards import pull_sheets

            return pull_sheets(survey, out, store)
        return pull_local(survey, layout, store)
    finally:
        lock.release()


def pull_local(survey: Survey, layout: Layout, store: RawStore) -> str:
    path = layout.sheet_csv
    if not path.exists():
        store.append(LOCAL_SOURCE, survey.response_columns, [])  # raw.csv with its header
        return _("no answers yet: {path} does not exist (0 rows pulled into {store_path})",
                 path=path, store_path=store.path)
    sheet = read_sheet(path)
    if sheet.fingerprint is None:  # a header at most: nothing to copy, nothing to recognise
        store.append(LOCAL_SOURCE, sheet.header or survey.response_columns, [])
        return _("pulled 0 new rows (total {value}) into {store_path}",
                 value=_total(store), store_path=store.path)
    source = local_source(sheet.fingerprint)
    earlier = {name: n for name, n in store.sources().items()
               if name.startswith(LOCAL_SOURCE) and name != source and n}
    if LOCAL_SOURCE in earlier and len(earlier) == 1 and not store.rows_from(source):
        # rows counted before sheets had fingerprints: they came from this sheet, as then
        store.rename_source(LOCAL_SOURCE, source)
        earlier = {}
    note = ""
    if earlier and not store.rows_from(source):
        note = (_("; {name} is a new sheet (its first row differs from the sheet pulled before), "
                  "so all its rows were copied; the {value} rows of the earlier sheet(s) stay in "
                  "raw.csv",
                  name=path.name, value=sum(earlier.values())))
    added = store.append(source, sheet.header or survey.response_columns,
                         sheet.after(store.rows_from(source)))
    return _("pulled {added} new rows (total {value}) into {store_path}{note}",
             added=added, value=_total(store), store_path=store.path, note=note)


def _total(store: RawStore) -> int:
    return sum(store.sources().values())
