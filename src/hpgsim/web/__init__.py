"""The web app: an HTTP API (OpenAPI at ``/openapi.json``) and a page served by the app itself.

    from hpgsim.web.app import create_app
    from hpgsim.web.settings import Settings
    app = create_app(Settings(port=8000))        # any ASGI server; `hpgsim serve` runs uvicorn

Modules: ``settings`` (bind address, token, limits), ``app`` (the factory), ``api`` (simulate,
compare, cohort bands, catalog, examples), ``patients`` (records, labs, doses, fit, forecast,
plan over the patient store), ``service`` (the work behind the routes), ``loop`` (feedback-loop
signals and drug sites), ``cohort`` (bands), ``jobs`` (background jobs with progress),
``security`` (token, host check, rate limit), ``errors`` (JSON errors), ``models`` (bodies),
``cli`` (``hpgsim serve``), ``static/`` (the page: plain JS modules and SVG, no CDN).
Needs the ``web`` extra; the patient endpoints also need the ``patients`` extra. Nothing is
imported here, so ``hpgsim.web.cli`` loads without the extra (``hpgsim serve`` then says what
to install).
"""
