"""The hello-world baselines of the start-up benchmark: the smallest Typer app with two
commands, one of which prints a JSON file with Rich. Run as a script, as `dcaf` is."""

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.pretty import Pretty

app = typer.Typer()


@app.command()
def greet(name: str) -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


@app.command()
def show(file: Path) -> None:
    """Show a JSON file."""
    Console().print(Pretty(json.loads(file.read_text())))


if __name__ == "__main__":
    app()
