"""The `hailong` command: one click group; each verb parses its arguments and calls one
library function. A HailongError becomes one line on stderr and exit status 1."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from hailong import i18n
from hailong.cliparams import Day, Decimal, Whole, speak_vietnamese
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import DEFAULT_OUT


def _click_in_our_language() -> None:
    """click's own texts (Usage:, Options, "Missing argument …") through hailong's catalog:
    each click module binds gettext's `_` and `ngettext` when imported, so they are rebound
    here; the Vietnamese of those texts is in hailong's .po beside hailong's own."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types
    import click.utils

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.termui, click.types, click.utils):
        if hasattr(module, "_"):
            module._ = i18n.translate
        if hasattr(module, "ngettext"):
            module.ngettext = i18n.translate_plural


_click_in_our_language()

SURVEY_DIR = click.argument("survey_dir", type=click.Path(path_type=Path))
OUT = click.option(
    "--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
    help=_("Output folder: data, QR codes and the site go below it."),
)


def _load(survey_dir: Path):
    from hailong.survey.load import load_survey

    return load_survey(survey_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             help=_("hailong: satisfaction surveys by QR code, and the rankings they produce."))
@click.version_option(package_name="hailong", help=_("Show the version and exit."))
def cli() -> None:
    pass


@cli.command(help=_('QR codes (SVG and PNG) for every unit, and printable A4 posters.'))
@SURVEY_DIR
@click.option("--base-url", required=True, help=_("Absolute https:// address the site is "
                                                  "published at."))
@OUT
@click.option("--no-posters", is_flag=True, help=_("Only the QR images, no printable posters."))
@click.option("--allow-http", is_flag=True, help=_("Accept an http:// base URL (testing only)."))
def qr(survey_dir: Path, base_url: str, out: Path, no_posters: bool, allow_http: bool) -> None:
    from hailong.collect.kit import make_qr_kit
    from hailong.golive import refuse_for_print

    survey = _load(survey_dir)
    refuse_for_print(survey, base_url, out, "qr")
    click.echo(make_qr_kit(survey, out, base_url, posters=not no_posters, allow_http=allow_http))


@cli.command(help=_('The static site: a survey page per unit, plus whatever results exist.'))
@click.argument("survey_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--base-url", default=None, help=_("Absolute address the site is published at."))
@OUT
def build(survey_dirs: tuple[Path, ...], base_url: str | None, out: Path) -> None:
    from hailong.golive import refuse_for_print
    from hailong.jobs import build as run_build

    surveys = [_load(d) for d in survey_dirs]
    if base_url:  # pages without an address are previews (hailong serve): nothing to check
        for survey in surveys:
            refuse_for_print(survey, base_url, out, "build")
    click.echo(run_build(surveys, out, base_url=base_url))


@cli.command(help=_('Copy new rows from the shared sheet into OUT/<id>/data/raw.csv.'))
@SURVEY_DIR
@OUT
def pull(survey_dir: Path, out: Path) -> None:
    from hailong.ingest.pull import pull as run_pull

    click.echo(run_pull(_load(survey_dir), out))


@cli.command(help=_('Validate, dedupe, score and rank; write the data files.'))
@SURVEY_DIR
@click.option("--responses", type=click.Path(path_type=Path), default=None,
              help=_("Responses CSV to score [default: OUT/<id>/data/raw.csv]."))
@OUT
def score(survey_dir: Path, responses: Path | None, out: Path) -> None:
    from hailong.score.pipeline import score as run_score

    click.echo(run_score(_load(survey_dir), out, responses=responses))


FORCE = click.option(
    "--force", is_flag=True,
    help=_("Publish even when the new ranking rests on far fewer responses than the published one."))


@cli.command(help=_('Render the results pages into the site.'))
@SURVEY_DIR
@OUT
@FORCE
def publish(survey_dir: Path, out: Path, force: bool) -> None:
    from hailong.publish.pages import publish as run_publish

    click.echo(run_publish(_load(survey_dir), out, force=force))


TARGET = click.option("--target", default=None,
                      help=_("Target name in hailong.toml [deploy.NAME] (may be left out when "
                              "there is one)."))
CONFIG = click.option("--config", type=click.Path(path_type=Path), default=None,
                      help=_("Site settings file [default: ./hailong.toml]."))


@cli.command(help=_('Pull, score and publish in one go (the cron job).'))
@SURVEY_DIR
@OUT
@click.option("--deploy", "deploy_site", is_flag=True,
              help=_("Then deploy the site (only when pull, score and publish succeeded)."))
@TARGET
@CONFIG
@FORCE
def weekly(survey_dir: Path, out: Path, deploy_site: bool, target: str | None,
           config: Path | None, force: bool) -> None:
    from hailong.jobs import weekly as run_weekly

    if (target or config) and not deploy_site:
        raise click.UsageError(_("--target and --config go with --deploy"))
    click.echo(run_weekly(_load(survey_dir), out, force=force, deploy=deploy_site, target=target,
                          config=config))


@cli.command(help=_("Send the named surveys' pages, as build and publish listed them, to where "
                     "the public reads them (targets in hailong.toml)."))
@click.argument("survey_dirs", nargs=-1, type=click.Path(path_type=Path))
@TARGET
@CONFIG
@OUT
@click.option("--rollback", is_flag=True,
              help=_("Put the live site back to the release before it (git: a new commit)."))
@FORCE
def deploy(survey_dirs: tuple[Path, ...], target: str | None, config: Path | None, out: Path,
           rollback: bool, force: bool) -> None:
    from hailong.publish.deploy.run import deploy as run_deploy

    if not survey_dirs and not rollback:
        raise click.UsageError(_("give at least one SURVEY_DIR (or --rollback)"))
    click.echo(run_deploy([_load(d) for d in survey_dirs], out, target=target, config=config,
                          rollback=rollback, force=force))


@cli.command(help=_("Development only: serve OUT/site and take the survey form's POST into the "
                    "local sheet."))
@click.argument("survey_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--port", default=8000, show_default=True, type=Whole(0, 65535),
              help=_("Port on 127.0.0.1 (0: any free port)."))
@OUT
def serve(survey_dirs: tuple[Path, ...], port: int, out: Path) -> None:
    from hailong.collect.serve import serve as run_serve

    run_serve([_load(d) for d in survey_dirs], out, port=port)


@cli.command(help=_("The daily participation report (send it between 16:30 and 17:00).\n\nIt "
                    "pulls and scores first, so the figures are those of the moment."))
@SURVEY_DIR
@click.option("--date", "day", type=Day(), default=None,
              help=_("Survey day to report, DD/MM/YYYY [default: today in the survey's time "
                     "zone]."))
@click.option("--format", "fmt", type=click.Choice(["text", "zalo", "html", "csv"]),
              default="text", show_default=True,
              help=_("text for reading, zalo for the group chat, html for the staff page, csv for "
                     "a spreadsheet."))
@click.option("--no-pull", is_flag=True,
              help=_("Use the last scored data; do not pull and score first."))
@OUT
def progress(survey_dir: Path, day: dt.date | None, fmt: str, no_pull: bool, out: Path) -> None:
    from hailong.field.progress import progress_report

    click.echo(progress_report(_load(survey_dir), out, day=day, fmt=fmt,
                               refresh=not no_pull))


@cli.command(help=_('Roster access: a signed personal link, QR code and letter per roster member.'))
@SURVEY_DIR
@click.option("--base-url", default=None,
              help=_("Absolute https:// address the site is published at [default: base_url in "
                     "survey.toml]."))
@OUT
@click.option("--allow-http", is_flag=True, help=_("Accept an http:// base URL (testing only)."))
def links(survey_dir: Path, base_url: str | None, out: Path, allow_http: bool) -> None:
    from hailong.field.links import make_links
    from hailong.golive import refuse_for_print

    survey = _load(survey_dir)
    refuse_for_print(survey, base_url, out, "links")
    click.echo(make_links(survey, out, base_url, allow_http=allow_http))


@cli.command(help=_('Single-use tickets (access = "tickets"): N tickets per unit for one day, '
                     'printed as slips to cut out.'))
@SURVEY_DIR
@click.option("--count", required=True, type=Whole(min=1), help=_("Tickets per unit."))
@click.option("--unit", "units", multiple=True,
              help=_("Only this unit (may be repeated) [default: every unit]."))
@click.option("--date", "day", type=Day(), default=None,
              help=_("Day the tickets are for, DD/MM/YYYY [default: today]."))
@click.option("--base-url", default=None,
              help=_("Absolute https:// address the site is published at [default: base_url in "
                     "survey.toml]."))
@OUT
@click.option("--allow-http", is_flag=True, help=_("Accept an http:// base URL (testing only)."))
def tickets(survey_dir: Path, count: int, units: tuple[str, ...], day: dt.date | None,
            base_url: str | None, out: Path, allow_http: bool) -> None:
    from hailong.collect.tickets import make_tickets
    from hailong.golive import refuse_for_print

    survey = _load(survey_dir)
    refuse_for_print(survey, base_url, out, "tickets")
    click.echo(make_tickets(survey, out, count, units=units,
                            day=day, base_url=base_url,
                            allow_http=allow_http))


@cli.command(help=_("The go-live check: every problem that would lose answers or mislead, one line "
                     "each with its fix; exit 0 only when ready."))
@click.argument("survey_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--base-url", default=None,
              help=_("Address the site will be published at [default: base_url in survey.toml]."))
@OUT
def check(survey_dirs: tuple[Path, ...], base_url: str | None, out: Path) -> None:
    from hailong.golive import check_all

    ready, report = check_all([_load(d) for d in survey_dirs], out, base_url)
    click.echo(report)
    if not ready:
        sys.exit(1)


@cli.command(help=_("Printable A4 paper questionnaires: one per member (roster, sample), or N "
                     "per unit each with a ticket (open, tickets); --blank for a board meeting."))
@SURVEY_DIR
@click.option("--count", type=Whole(min=1), default=None,
              help=_("Forms per unit, each with its own ticket (open and tickets surveys)."))
@click.option("--unit", "units", multiple=True,
              help=_("Only this unit (may be repeated) [default: every unit]."))
@click.option("--blank", is_flag=True,
              help=_("One copy per unit without a code, for a cooperative's board to agree its "
                     "answers in a meeting."))
@click.option("--date", "day", type=Day(), default=None,
              help=_("Day the tickets are for, DD/MM/YYYY [default: today]."))
@click.option("--base-url", default=None,
              help=_("Absolute https:// address the site is published at [default: base_url in "
                     "survey.toml]."))
@OUT
@click.option("--allow-http", is_flag=True, help=_("Accept an http:// base URL (testing only)."))
def paper(survey_dir: Path, count: int | None, units: tuple[str, ...], blank: bool,
          day: dt.date | None, base_url: str | None, out: Path, allow_http: bool) -> None:
    from hailong.collect.paper import make_paper
    from hailong.golive import refuse_for_print

    survey = _load(survey_dir)
    refuse_for_print(survey, base_url, out, "paper")
    click.echo(make_paper(survey, out, base_url=base_url, units=units, count=count,
                          blank=blank, day=day, allow_http=allow_http))


@cli.command(help=_('Draw the sample and reserve lists from transactions.csv; or replace a '
                    'sampled member by the next reserve (--replace).'))
@SURVEY_DIR
@click.option("--seed", type=Whole(), help=_("Random seed; the same seed draws the same sample."))
@click.option("--replace", "replace_id", metavar="ID",
              help=_("Replace this member of the sample by the next reserve of the same unit and "
                     "type."))
@click.option("--reason", type=click.Choice(["refused", "unreachable", "ineligible"]),
              help=_("Why the member is replaced (with --replace)."))
@OUT
def sample(survey_dir: Path, seed: int | None, replace_id: str | None, reason: str | None,
           out: Path) -> None:
    from hailong.field.sample import draw_sample, replace_member

    if replace_id is not None:
        if reason is None or seed is not None:
            raise click.UsageError(_("--replace ID needs --reason refused|unreachable|"
                                     "ineligible, and no --seed (the sample is already drawn)"))
        click.echo(replace_member(_load(survey_dir), out, replace_id, reason))
        return
    if seed is None:
        raise click.UsageError(_("give --seed N to draw the sample (or --replace ID --reason R "
                                 "to replace a member)"))
    click.echo(draw_sample(_load(survey_dir), out, seed=seed))


@cli.command(help=_("units.csv: the communes and wards of a province (the administrative units "
                     "since 1 July 2025)."))
@click.option("--province", default=None,
              help=_('Province or city, with or without diacritics, e.g. "Hà Tĩnh".'))
@click.option("--all", "everywhere", is_flag=True, help=_("Every commune and ward of the country."))
@click.option("--out-file", type=click.Path(path_type=Path), default=Path("units.csv"),
              show_default=True, help=_("The units.csv file to write."))
@click.option("--force", is_flag=True, help=_("Overwrite an existing file."))
def units(province: str | None, everywhere: bool, out_file: Path, force: bool) -> None:
    from hailong.survey.units import write_units

    click.echo(write_units(out_file, province, everywhere=everywhere, force=force))


@cli.command(help=_("A new survey folder from a template, with the province's communes and wards."))
@click.argument("survey_dir", type=click.Path(path_type=Path))
@click.option("--template", required=True, type=click.Choice(["sipas", "pks02", "htx"]),
              help=_("sipas (one-stop offices), pks02 (commune chairmen by QR code) or htx "
                     "(cooperatives on personal links)."))
@click.option("--province", default=None, help=_("Province or city whose communes and wards are rated."))
def new(survey_dir: Path, template: str, province: str | None) -> None:
    from hailong.survey.new import new_survey

    click.echo(new_survey(survey_dir, template, province))


@cli.command(help=_('The whole pipeline on a shipped survey with generated answers.'))
@click.option("--survey", "survey_dir", type=click.Path(path_type=Path), default=None,
              help=_("Survey folder [default: the shipped surveys/sipas-xa-2020]."))
@click.option("--seed", default=2020, type=Whole(), show_default=True, help=_("Seed of the generated answers."))
@OUT
def demo(survey_dir: Path | None, seed: int, out: Path) -> None:
    from hailong.demo.run import run_demo

    click.echo(run_demo(out, survey_dir=survey_dir, seed=seed))


@cli.command(help=_("Spreadsheets and Apps Script web apps a survey needs."))
@SURVEY_DIR
@click.option("--answers", type=Whole(min=1), required=True,
              help=_("Responses expected over the whole survey."))
@click.option("--days", type=Whole(min=1), required=True, help=_("Days the survey takes responses."))
@click.option("--peak-share", type=Decimal(), default=0.2, show_default=True,
              help=_("Share of a day's responses that falls in the peak hour."))
def capacity(survey_dir: Path, answers: int, days: int, peak_share: float) -> None:
    """Spreadsheets and Apps Script web apps a survey needs (help: the decorator's text)."""
    from hailong.collect.capacity import capacity as plan

    click.echo(plan(_load(survey_dir), answers, days, peak_share))


speak_vietnamese(cli)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="hailong", standalone_mode=False)
    except HailongError as exc:
        # one line, even when the message quotes a value holding a line break
        click.echo(_("hailong: error: {message}", message=" ".join(str(exc).split())), err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo(_("hailong: interrupted"), err=True)
        sys.exit(130)
    except click.UsageError as exc:
        verb = exc.ctx.command_path if exc.ctx else "hailong"
        click.echo(_("hailong: error: {message} (see '{verb} --help')",
                     message=exc.format_message(), verb=verb), err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(_("hailong: error: {message}", message=exc.format_message()), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # e.g. --out names a file, a full disk, no permission: one line too
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(_("hailong: error: {where}{problem}; check the path and its permissions",
                     where=where, problem=exc.strerror or exc), err=True)
        sys.exit(1)
