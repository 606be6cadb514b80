"""``hpgsim serve``: the web app on 127.0.0.1:8000 (patients in SQLite by default)."""

from __future__ import annotations

import click

from hpgsim.errors import InputError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback needs --token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port.")
@click.option("--token", envvar="HPGSIM_TOKEN", default=None,
              help="Access token every API call must send (env HPGSIM_TOKEN).")
@click.option("--db", default=None, metavar="URL|FILE",
              help="Patient store: a SQLAlchemy URL or a SQLite file (default: the store's "
                   "default location).")
@click.option("--max-cohort", default=500, show_default=True, type=click.IntRange(1),
              help="Most virtual men in one cohort-band request.")
@click.option("--max-span-weeks", default=520.0, show_default=True,
              type=click.FloatRange(min=1.0), help="Longest simulated span per protocol.")
def serve_command(host: str, port: int, token: str | None, db: str | None, max_cohort: int,
                  max_span_weeks: float) -> None:
    """Serve the web page and HTTP API (research and education tool, not medical advice)."""
    try:
        import uvicorn

        from hpgsim.web.app import create_app
        from hpgsim.web.settings import Settings
    except ImportError as err:
        raise InputError("serve", err.name, "the web extra is not installed",
                         'install it with python3 -m pip install "hpgsim[web]"') from None
    settings = Settings(host=host, port=port, token=token, db=db, max_cohort=max_cohort,
                        max_span_weeks=max_span_weeks)
    app = create_app(settings)
    note = " (the page asks for the token)" if token else ""
    click.echo(f"hpgsim serving on {settings.url}{note}; press Ctrl+C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning")
