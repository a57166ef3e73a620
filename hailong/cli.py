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


FORCE = click.option(
    "--force", is_flag=True,
    help="Công bố cả khi bảng xếp hạng mới có ít phiếu hơn nhiều so với bảng đang công bố.")


@cli.command()
@SURVEY_DIR
@OUT
@FORCE
def publish(survey_dir: Path, out: Path, force: bool) -> None:
    """Render the results pages into the site."""
    from hailong.publish.pages import publish as run_publish

    click.echo(run_publish(_load(survey_dir), out, force=force))


TARGET = click.option("--target", default=None,
                      help="Target name in hailong.toml [deploy.NAME] (may be left out when there is one).")
CONFIG = click.option("--config", type=click.Path(path_type=Path), default=None,
                      help="Site settings file [default: ./hailong.toml].")


@cli.command()
@SURVEY_DIR
@OUT
@click.option("--deploy", "deploy_site", is_flag=True,
              help="Then deploy the site (only when pull, score and publish succeeded).")
@TARGET
@CONFIG
@FORCE
def weekly(survey_dir: Path, out: Path, deploy_site: bool, target: str | None,
           config: Path | None, force: bool) -> None:
    """Pull, score and publish in one go (the cron job); --deploy also puts the site online."""
    from hailong.jobs import weekly as run_weekly

    if (target or config) and not deploy_site:
        raise click.UsageError("--target and --config go with --deploy")
    click.echo(run_weekly(_load(survey_dir), out, force=force, deploy=deploy_site, target=target,
                          config=config))


@cli.command()
@click.argument("survey_dirs", nargs=-1, type=click.Path(path_type=Path))
@TARGET
@CONFIG
@OUT
@click.option("--rollback", is_flag=True,
              help="Put the live site back to the release before it (git: a new commit).")
def deploy(survey_dirs: tuple[Path, ...], target: str | None, config: Path | None, out: Path,
           rollback: bool) -> None:
    """Copy the built site OUT/site/ to where the public reads it (targets in hailong.toml)."""
    from hailong.publish.deploy.run import deploy as run_deploy

    if not survey_dirs and not rollback:
        raise click.UsageError("give at least one SURVEY_DIR (or --rollback)")
    click.echo(run_deploy([_load(d).id for d in survey_dirs], out, target=target, config=config,
                          rollback=rollback))


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
@click.option("--count", required=True, type=click.IntRange(1), help="Số vé cho mỗi đơn vị.")
@click.option("--unit", "units", multiple=True,
              help="Chỉ phát vé cho đơn vị này (nhắc lại được) [mặc định: mọi đơn vị].")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Ngày dùng vé, YYYY-MM-DD [mặc định: hôm nay].")
@click.option("--base-url", default=None,
              help="Địa chỉ https:// của trang khảo sát [mặc định: base_url trong survey.toml].")
@OUT
@click.option("--allow-http", is_flag=True, help="Accept an http:// base URL (testing only).")
def tickets(survey_dir: Path, count: int, units: tuple[str, ...], day: dt.datetime | None,
            base_url: str | None, out: Path, allow_http: bool) -> None:
    """Vé dùng một lần (access = "tickets"): N vé mỗi đơn vị trong ngày, in thành phiếu để cắt."""
    from hailong.collect.tickets import make_tickets

    click.echo(make_tickets(_load(survey_dir), out, count, units=units,
                            day=day.date() if day else None, base_url=base_url,
                            allow_http=allow_http))


@cli.command()
@SURVEY_DIR
@click.option("--seed", required=True, type=int, help="Random seed; the same seed draws the same sample.")
@OUT
def sample(survey_dir: Path, seed: int, out: Path) -> None:
    """Draw the sample and reserve lists from transactions.csv."""
    from hailong.field.sample import draw_sample

    click.echo(draw_sample(_load(survey_dir), out, seed=seed))


@cli.command()
@click.option("--province", default=None, help="Tỉnh, thành phố (có dấu hoặc không), e.g. \"Hà Tĩnh\".")
@click.option("--all", "everywhere", is_flag=True, help="Mọi xã, phường của cả nước.")
@click.option("--out-file", type=click.Path(path_type=Path), default=Path("units.csv"),
              show_default=True, help="Tệp units.csv sẽ ghi.")
@click.option("--force", is_flag=True, help="Ghi đè tệp đã có.")
def units(province: str | None, everywhere: bool, out_file: Path, force: bool) -> None:
    """units.csv: các xã, phường của một tỉnh (đơn vị hành chính từ ngày 1/7/2025)."""
    from hailong.survey.units import write_units

    click.echo(write_units(out_file, province, everywhere=everywhere, force=force))


@cli.command()
@click.argument("survey_dir", type=click.Path(path_type=Path))
@click.option("--template", required=True, type=click.Choice(["sipas", "pks02", "htx"]))
@click.option("--province", default=None, help="Tỉnh, thành phố có các xã, phường được đánh giá.")
def new(survey_dir: Path, template: str, province: str | None) -> None:
    """Tạo thư mục khảo sát mới từ một mẫu, với các xã, phường của tỉnh."""
    from hailong.survey.new import new_survey

    click.echo(new_survey(survey_dir, template, province))


@cli.command()
@click.option("--survey", "survey_dir", type=click.Path(path_type=Path), default=None,
              help="Survey folder [default: the shipped surveys/sipas-xa-2020].")
@click.option("--seed", default=2020, show_default=True, help="Seed of the generated answers.")
@OUT
def demo(survey_dir: Path | None, seed: int, out: Path) -> None:
    """The whole pipeline on a shipped survey with generated answers."""
    from hailong.demo.run import run_demo

    click.echo(run_demo(out, survey_dir=survey_dir, seed=seed))


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
