"""Where every file of a survey lives under the output folder (contract, sections 3 and 4)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hailong.errors import HailongError
from hailong.i18n import _

DEFAULT_OUT = Path("output")
RESULTS_SEGMENT = "ket-qua"  # results pages: <site>/<id>/ket-qua/
STAFF_SEGMENT = "tien-do"  # staff progress page, not linked from public pages


@dataclass(frozen=True)
class Layout:
    out: Path
    survey_id: str

    @property
    def root(self) -> Path:
        return self.out / self.survey_id

    @property
    def trash(self) -> Path:
        """Replaced results trees waiting to be deleted in the background: outside every
        survey's folders and the site (never deployed, never in a demo's manifest)."""
        return self.out / ".trash"

    @property
    def demo_mark(self) -> Path:
        """Written by `hailong demo` into a survey whose answers it made up: every results
        page then carries the "dữ liệu thử" band and no public deploy target takes them."""
        return self.root / "demo-data.txt"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def data_file(self, name: str) -> Path:
        return self.data / name

    @property
    def sheet_csv(self) -> Path:
        """The embedded local sheet (collector.kind = "local")."""
        return self.root / "sheet.csv"

    @property
    def raw_csv(self) -> Path:
        return self.data / "raw.csv"

    @property
    def pull_state(self) -> Path:
        return self.data / "pull-state.json"

    @property
    def qr(self) -> Path:
        return self.root / "qr"

    @property
    def links(self) -> Path:
        return self.root / "links"

    @property
    def tickets(self) -> Path:
        """Tickets of access = "tickets": issued.csv, key-check.txt, the slips (not published)."""
        return self.root / "tickets"

    @property
    def history(self) -> Path:
        return self.root / "history"

    @property
    def site(self) -> Path:
        return self.out / "site"

    @property
    def survey_site(self) -> Path:
        return self.site / self.survey_id

    @property
    def results(self) -> Path:
        return self.survey_site / RESULTS_SEGMENT

    @property
    def staff(self) -> Path:
        return self.survey_site / STAFF_SEGMENT

    def unit_page(self, code: str) -> Path:
        return self.survey_site / "u" / code / "index.html"


def unit_path(survey_id: str, code: str) -> str:
    """A unit's survey page, relative to the site root (the QR target)."""
    return f"{survey_id}/u/{code}/"


def unit_url(base_url: str, survey_id: str, code: str) -> str:
    """The absolute address printed in a unit's QR code."""
    return base_url.rstrip("/") + "/" + unit_path(survey_id, code)


def root_prefix(page_path: str) -> str:
    """The relative prefix from a page (e.g. 'x/u/A1/index.html') back to the site root."""
    depth = page_path.strip("/").count("/")
    return "../" * depth


def require_survey_output(survey, out: str | Path) -> None:
    """Refuse an --out that holds nothing of this survey: neither its data folder nor its
    site. Reporting zeros from the wrong folder would look like a day without answers."""
    layout = Layout(Path(out), survey.id)
    if layout.root.exists() or layout.survey_site.exists():
        return
    raise HailongError(
        _("{out}: no data of survey {survey} here (looked for {root} and {site}); give --out the "
          "folder used when running build, serve or demo (default output/)", out=out,
          survey=survey.id, root=layout.root, site=layout.survey_site)
    )
