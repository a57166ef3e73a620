"""The `hailong` command: one click group; each verb parses its arguments and calls one
library function. A HailongError becomes one line on stderr and exit status 1."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from hailong.errors import HailongError
from hailong.layout import DEFAULT_OUT

SURVEY_DIR = click.argument("survey_dir", type=click.Path(path_type=Path))
OUT = click.option(
    "--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
    help="Output folder: data, QR codes and the site go below it.",
)


def _load(survey_dir: Path):
    from hailong.survey.load import load_survey

    return load_survey(survey_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hailong")
def cli() -> None:
    """hailong: satisfaction surveys by QR code, and the rankings they produce."""


@cli.command()
@SURVEY_DIR
@click.option("--base-url", required=True, help="Absolute https:// address the site is published at.")
@OUT
@click.option("--no-posters", is_flag=True, help="Only the QR images, no printable posters.")
@click.option("--allow-http", is_flag=True, help="Accept an http:// base URL (testing only).")
def qr(survey_dir: Path, base_url: str, out: Path, no_posters: bool, allow_http: bool) -> None:
    """QR codes (SVG and PNG) for every unit, and printable A4 posters."""
    from hailong.collect.kit import make_qr_kit

    click.echo(make_qr_kit(_load(survey_dir), out, base_url, posters=not no_posters,
                           allow_http=allow_http))


@cli.command()
@click.argument("survey_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--base-url", default=None, help="Absolute address the site is published at.")
@OUT
def build(survey_dirs: tuple[Path, ...], base_url: str | None, out: Path) -> None:
    """The static site: a survey page per unit, plus whatever results exist."""
    from hailong.jobs import build as run_build

    click.echo(run_build([_load(d) for d in survey_dirs], out, base_url=base_url))


@cli.command()
@SURVEY_DIR
@OUT
def pull(survey_dir: Path, out: Path) -> None:
    """Copy new rows from the shared sheet into OUT/<id>/data/raw.csv."""
    from hailong.ingest.pull import pull as run_pull

    click.echo(run_pull(_load(survey_dir), out))


@cli.command()
@SURVEY_DIR
@click.option("--responses", type=click.Path(path_type=Path), default=None,
              help="Responses CSV to score [default: OUT/<id>/data/raw.csv].")
@OUT
def score(survey_dir: Path, responses: Path | None, out: Path) -> None:
    """Validate, dedupe, score and rank; write the data files."""
    from hailong.score.pipeline import score as run_score

    click.echo(run_score(_load(survey_dir), out, responses=responses))


@cli.command()
@SURVEY_DIR
@OUT
def publish(survey_dir: Path, out: Path) -> None:
    """Render the results pages into the site."""
    from hailong.publish.pages import publish as run_publish

    click.echo(run_publish(_load(survey_dir), out))


@cli.command()
@SURVEY_DIR
@OUT
def weekly(survey_dir: Path, out: Path) -> None:
    """Pull, score and publish in one go (the cron job)."""
    from hailong.jobs import weekly as run_weekly

    click.echo(run_weekly(_load(survey_dir), out))


@cli.command()
@click.argument("survey_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0: any free port).")
@OUT
def serve(survey_dirs: tuple[Path, ...], port: int, out: Path) -> None:
    """Development only: serve OUT/site and take the survey form's POST into the local sheet."""
    from hailong.collect.serve import serve as run_serve

    run_serve([_load(d) for d in survey_dirs], out, port=port)


@cli.command()
@SURVEY_DIR
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Survey day to report [default: today in the survey's time zone].")
@click.option("--format", "fmt", type=click.Choice(["text", "zalo", "html", "csv"]),
              default="text", show_default=True)
@click.option("--no-pull", is_flag=True,
              help="Use the last scored data; do not pull and score first.")
@OUT
def progress(survey_dir: Path, day: dt.datetime | None, fmt: str, no_pull: bool, out: Path) -> None:
    """The daily participation report (send it between 16:30 and 17:00).

    It pulls and scores first, so the figures are those of the moment."""
    from hailong.field.progress import progress_report

    click.echo(progress_report(_load(survey_dir), out, day=day.date() if day else None, fmt=fmt,
                               refresh=not no_pull))


@cli.command()
@SURVEY_DIR
@click.option("--base-url", default=None,
              help="Absolute https:// address the site is published at [default: base_url in survey.toml].")
@OUT
@click.option("--allow-http", is_flag=True, help="Accept an http:// base URL (testing only).")
def links(survey_dir: Path, base_url: str | None, out: Path, allow_http: bool) -> None:
    """Roster access: a signed personal link, QR code and letter per roster member."""
    from hailong.field.links import make_links

    click.echo(make_links(_load(survey_dir), out, base_url, allow_http=allow_http))


@cli.command()
@SURVEY_DIR
@click.option("--seed", required=True, type=int, help="Random seed; the same seed draws the same sample.")
@OUT
def sample(survey_dir: Path, seed: int, out: Path) -> None:
    """Draw the sample and reserve lists from transactions.csv."""
    from hailong.field.sample import draw_sample

    click.echo(draw_sample(_load(survey_dir), out, seed=seed))


@cli.command()
@click.option("--survey", "survey_dir", type=click.Path(path_type=Path), default=None,
              help="Survey folder [default: the shipped surveys/sipas-xa-2020].")
@click.option("--seed", default=2020, show_default=True, help="Seed of the generated answers.")
@OUT
def demo(survey_dir: Path | None, seed: int, out: Path) -> None:
    """The whole pipeline on a shipped survey with generated answers."""
    from hailong.demo.run import run_demo

    click.echo(run_demo(out, survey_dir=survey_dir, seed=seed))


@cli.command()
@SURVEY_DIR
@click.option("--answers", type=int, required=True, help="Số phiếu dự kiến của cả đợt khảo sát.")
@click.option("--days", type=int, required=True, help="Số ngày nhận phiếu.")
@click.option("--peak-share", type=float, default=0.2, show_default=True,
              help="Tỉ lệ phiếu của một ngày rơi vào giờ cao điểm.")
def capacity(survey_dir: Path, answers: int, days: int, peak_share: float) -> None:
    """Số bảng tính và ứng dụng web Apps Script cần cho khảo sát."""
    from hailong.collect.capacity import capacity as plan

    click.echo(plan(_load(survey_dir), answers, days, peak_share))


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="hailong", standalone_mode=False)
    except HailongError as exc:
        # one line, even when the message quotes a value holding a line break
        click.echo("hailong: error: " + " ".join(str(exc).split()), err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("hailong: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        verb = exc.ctx.command_path if exc.ctx else "hailong"
        click.echo(f"hailong: error: {exc.format_message()} (see '{verb} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"hailong: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # e.g. --out names a file, a full disk, no permission: one line too
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"hailong: error: {where}{exc.strerror or exc}; check the path and its permissions",
                   err=True)
        sys.exit(1)
