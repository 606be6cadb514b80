"""``hpgsim export-sbml PROTOCOL.yaml MODEL.xml``: the click command (registered by hpgsim.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from hpgsim.errors import HpgsimError


@click.command("export-sbml")
@click.argument("protocol", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_sbml_command(protocol: Path, output: Path) -> None:
    """Write the model, the protocol's subject and its doses as SBML Level 3 (time in hours).

    Loads in libRoadRunner, COPASI or Tellurium. Needs the ``sbml`` extra
    (pip install 'hpgsim[sbml]').
    """
    from hpgsim.regimen import load_protocol

    try:
        from hpgsim.interop.sbml import write_sbml

        p = load_protocol(protocol)
        path = write_sbml(output, p.subject, p.regimen)
    except ImportError as err:
        raise click.ClickException(f"{err}. Fix: pip install 'hpgsim[sbml]'") from err
    except HpgsimError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"wrote {path}")
