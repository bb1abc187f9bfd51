"""flask commands (run as `flask --app wsgi COMMAND`)."""
import click
from flask.cli import with_appcontext

from backend.services import identity


@click.command("create-admin")
@click.argument("openid")
@with_appcontext
def create_admin(openid):
    """Make the WeChat user with OPENID a platform admin."""
    user = identity.make_platform_admin(openid)
    click.echo(f"user {user.id} ({openid}) is now a platform admin")


@click.command("import-registry")
@click.argument("community_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-openid", required=True, help="openid of the committee member or admin importing")
@with_appcontext
def import_registry(community_id, path, as_openid):
    """Import a registry file (CSV or XLSX) into a community, as the route does."""
    from backend.errors import DomainError
    from backend.extensions import db
    from backend.models import User
    from backend.services import registry

    actor = db.session.execute(db.select(User).filter_by(openid=as_openid)).scalar_one_or_none()
    if actor is None:
        raise click.ClickException(f"no user with openid {as_openid}")
    with open(path, "rb") as fh:
        try:
            report = registry.import_registry(actor, community_id, path, fh.read())
        except DomainError as exc:
            for row in exc.details.get("rows", []):
                click.echo(f"row {row['row']} {row['field']}: {row['message']}", err=True)
            raise click.ClickException(exc.message)
    click.echo(report)


@click.command("demo")
@with_appcontext
def demo():
    """Load the demo community (idempotent); print the development logins, where the API and its
    documentation are, and a first request to try (gunicorn's address: LINLI_BIND)."""
    import os

    from flask import current_app

    from backend.services import demo as demo_service

    for line in demo_service.load_demo():
        click.echo(line)
    closed = demo_service.closed_vote_id()
    if closed is not None:
        from backend.services import votes

        path = os.path.join(current_app.config["INSTANCE_PATH"], "demo-closed-vote-bundle.json")
        with open(path, "wb") as fh:
            fh.write(votes.bundle_bytes(identity.make_platform_admin(demo_service.OPENIDS["admin"]), closed))
        click.echo(f"The closed vote's audit bundle (GET /api/v1/votes/{closed}/bundle) is in {path}; check it offline:")
        click.echo(f"  .venv/bin/python -m voting.verify {os.path.relpath(path)}")
    base = "http://" + os.environ.get("LINLI_BIND", "127.0.0.1:8000")
    click.echo(f"API documentation: {base}/api/v1/docs")
    click.echo(f"OpenAPI:           {base}/api/v1/openapi.json")
    click.echo("Log in as the demo owner (a fresh code each time: change the part after ~):")
    click.echo(f"  curl -s -X POST {base}/api/v1/auth/wechat-login -H 'Content-Type: application/json' "
               "-d '{\"code\": \"code-dev-owner~1\"}'")


@click.command("send-notifications")
@with_appcontext
def send_notifications():
    """Send the subscribe messages that are due (run from cron every minute)."""
    from backend.services import outbox

    click.echo(outbox.send_due())


@click.command("media-gc")
@click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def media_gc(older_than_hours):
    """Remove unattached uploads older than a day and their stored files (run from cron hourly)."""
    from datetime import timedelta

    from backend.services import media

    click.echo(f"removed {media.collect_garbage(max_age=timedelta(hours=older_than_hours))} unattached media")


def _utc_time(ctx, param, value):
    """--now as an aware UTC datetime (ISO 8601 with a zone), None for the clock."""
    from datetime import datetime, timezone

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise click.BadParameter("expected ISO 8601 with a zone, e.g. 2026-03-01T08:00:00Z")
    return moment.astimezone(timezone.utc)


@click.command("tickets-auto-confirm")
@click.option("--now", callback=_utc_time, help="act as if at this UTC time (default: the clock)")
@with_appcontext
def tickets_auto_confirm(now):
    """Confirm resolved tickets after 7 days of silence (run from cron hourly)."""
    from backend.services import tickets

    click.echo(f"auto-confirmed {len(tickets.auto_confirm(now))} tickets")


@click.command("tickets-escalate")
@click.option("--now", callback=_utc_time, help="act as if at this UTC time (default: the clock)")
@with_appcontext
def tickets_escalate(now):
    """Escalate overdue tickets to the street office (run from cron every few minutes)."""
    from backend.services import tickets

    click.echo(f"escalated {len(tickets.escalate_overdue(now))} tickets")


@click.command("close-due-votes")
@click.option("--now", default=None, help="UTC time to act at, YYYY-MM-DDTHH:MM:SSZ (default: the clock)")
@with_appcontext
def close_due_votes(now):
    """Close every open vote past its closes_at, with its tally and result notice (cron, every minute)."""
    from backend.services import votes
    from voting.canonical import parse_time

    closed = votes.close_due_votes(parse_time(now) if now else None)
    click.echo(f"closed {len(closed)} votes" + (f": {', '.join(map(str, closed))}" if closed else ""))


@click.command("vote-reminders")
@click.option("--now", default=None, help="UTC time to act at, YYYY-MM-DDTHH:MM:SSZ (default: the clock)")
@with_appcontext
def vote_reminders(now):
    """Queue "closing in 24 hours" for owners who have not voted (cron, hourly)."""
    from backend.services import votes
    from voting.canonical import parse_time

    result = votes.send_reminders(parse_time(now) if now else None)
    click.echo(f"reminded {result['queued']} owners about {result['votes']} votes")


@click.command("rotate-pii-key")
@with_appcontext
def rotate_pii_key():
    """Move every encrypted phone, ID number and session key, and their keyed hashes, from the key in
    PII_KEY_OLD to the configured PII_KEY, in one transaction (docs/architecture.md)."""
    import os

    from flask import current_app

    from backend.services import key_rotation

    old = os.environ.get("PII_KEY_OLD", "")
    if not old:
        raise click.ClickException("set PII_KEY_OLD to the key the data is encrypted with now, PII_KEY to the new one")
    if old == current_app.config["PII_KEY"]:
        raise click.ClickException("PII_KEY_OLD and PII_KEY are the same key")
    try:
        counts = key_rotation.rotate_pii_key(old, current_app.config["PII_KEY"])
    except Exception as exc:  # noqa: BLE001 — InvalidTag or a bad key: nothing was written
        raise click.ClickException(f"rotation refused, nothing changed: {type(exc).__name__} "
                                   "(is PII_KEY_OLD the key the data is encrypted with?)")
    click.echo(f"re-encrypted {counts['users']} users, {counts['owners']} owners; "
               f"{counts['phone_verifications']} phone verifications rehashed")


@click.command("weekly-rollup")
@click.option("--now", callback=_utc_time, help="act as if at this UTC time (default: the clock)")
@with_appcontext
def weekly_rollup(now):
    """Roll up last week's complaints of every channel and order focus inspections (cron, Mondays)."""
    from backend.services import hotline

    rollup = hotline.weekly_rollup(now)
    click.echo(f"{rollup.week}: {rollup.totals['complaints']} complaints in {rollup.totals['communities']} "
               f"compounds, {rollup.totals['focus']} focus inspections")


@click.command("measures-escalate")
@click.option("--now", callback=_utc_time, help="act as if at this UTC time (default: the clock)")
@with_appcontext
def measures_escalate(now):
    """Mark overdue measures and order the next grade (cron, hourly)."""
    from backend.services import inspections

    click.echo(f"escalated {len(inspections.escalate_measures(now))} measures")


@click.command("integrity-assess")
@click.option("--now", callback=_utc_time, help="act as if at this UTC time (default: the clock)")
@click.option("--revise", is_flag=True, help="publish a new signed version where the figures changed")
@click.option("--note", default=None, help="what a revision corrects")
@with_appcontext
def integrity_assess(now, revise, note):
    """Freeze and sign last quarter's integrity scores (once) and refresh the running quarter's (cron, daily)."""
    from backend.services import integrity_results

    done = integrity_results.assess(now, revise=revise, note=note)
    click.echo(f"{done['period']}: {done['published']} scores published, {done['unchanged']} unchanged, "
               f"{done['managers']} manager credits; {done['provisional']} provisional scores refreshed")


@click.command("integrity-year-lists")
@click.option("--now", callback=_utc_time, help="act as if at this UTC time (default: the clock)")
@click.option("--revise", is_flag=True, help="publish a new signed version where the lists changed")
@with_appcontext
def integrity_year_lists(now, revise):
    """Publish last year's red and black lists (once; cron in January after the Q4 assessment)."""
    from backend.services import integrity_results

    for kind, result in integrity_results.year_lists(now, revise=revise).items():
        click.echo(f"{kind}: " + (f"version {result.version}, red {result.content['red']}, "
                                  f"black {result.content['black']}" if result else "already published"))


commands = [create_admin, import_registry, demo, send_notifications, media_gc, tickets_auto_confirm, tickets_escalate,
            close_due_votes, vote_reminders, rotate_pii_key, weekly_rollup, measures_escalate, integrity_assess,
            integrity_year_lists]
