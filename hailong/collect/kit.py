"""`hailong qr`: the QR kit of a survey, its images and, unless asked not to, its posters."""

from __future__ import annotations

from pathlib import Path

from hailong.collect.posters import make_posters
from hailong.collect.qr import check_base_url, generate_qr_images
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout


def make_qr_kit(survey, out: Path, base_url: str, posters: bool = True, allow_http: bool = False) -> str:
    """`hailong qr`: QR images for every unit and, unless posters=False, the A4 posters."""
    if survey.access == "sample":
        # the sample's codes are personal too: a public poster would collect uncountable answers
        raise HailongError(
            _('survey \'{id}\' has access = "sample": only the drawn sample may answer, each with '
              "a personal code; make their letters with `hailong links {path}` or paper "
              "questionnaires with `hailong paper {path}` instead of public posters",
              id=survey.id, path=survey.path)
        )
    if survey.access == "roster":
        # a public poster carries no personal token: every answer from it would be quarantined
        raise HailongError(
            _('survey \'{id}\' has access = "roster": answers from public QR posters carry no '
              "personal token and would all be quarantined (invalid token); make each member's "
              "link, QR code and letter with `hailong links {path}` instead",
              id=survey.id, path=survey.path)
        )
    if survey.access == "tickets":
        # a poster's code carries no ticket: every answer from it would be quarantined
        raise HailongError(
            _("survey '{survey}' uses tickets (access = \"tickets\"): answers from the QR code on "
              "the poster carry no ticket code and will not count; print tickets to hand to each "
              "person with `hailong tickets {path} --count N`", survey=survey.id, path=survey.path)
        )
    check_base_url(base_url, allow_http)
    out = Path(out)
    written, skipped = generate_qr_images(survey, out, base_url, allow_http=allow_http)
    folder = Layout(out, survey.id).qr
    lines = [_("QR codes: {units} units in {folder} ({written} drawn, {skipped} unchanged)",
               units=len(survey.units), folder=folder, written=written, skipped=skipped)]
    if posters:
        lines.append(make_posters(survey, out, base_url, allow_http=allow_http))
    return "\n".join(lines)
