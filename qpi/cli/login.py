"""``qpi login``: check credentials against the server and save them as a profile."""

from __future__ import annotations

import os
import socket
import sys

import click

from qpi._http.redact import redact_url
from qpi.cli.context import connection_options, emit_json, options_of
from qpi.config import DEFAULT_URL, config_path, load_profiles, save_profile

__all__ = ["login"]


def _url_for(given: str | None, profile: str) -> str:
    """The URL to log in to: --url, else $QPI_URL, else the profile's saved URL, else default."""
    if given:
        return given.rstrip("/")
    if os.environ.get("QPI_URL"):
        return os.environ["QPI_URL"].rstrip("/")
    profiles = load_profiles().get("profiles")
    saved = (profiles or {}).get(profile, {}) if isinstance(profiles, dict) else {}
    return str(saved.get("url") or DEFAULT_URL).rstrip("/")


#: The warning for a secret given as a command-line argument.
ARGUMENT_WARNING = (
    "Warning: {option} puts the secret in the process arguments, which every user of this "
    "machine can read (ps) and shells keep in their history; type it at the prompt, pipe it "
    "with {stdin_option}, or set {env}."
)


def _secret(
    given: str | None, from_stdin: bool, env: str, prompt: str, option: str, stdin_option: str
) -> str:
    """A secret from stdin, the argument (with a warning), the environment, or a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if given is not None:
        message = ARGUMENT_WARNING.format(option=option, stdin_option=stdin_option, env=env)
        click.echo(message, err=True)
        return given
    if os.environ.get(env):
        return os.environ[env]
    return click.prompt(prompt, hide_input=True, err=True).strip()


@click.command()
@click.option("--email", metavar="EMAIL", help="Log in with this account instead of a token.")
@click.option(
    "--password",
    metavar="PASSWORD",
    help="Deprecated (visible to other users in `ps`): use the prompt, --password-stdin or "
    "QPI_PASSWORD.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option(
    "--token-stdin", is_flag=True, help="Read the API token from the first line of stdin."
)
@click.option("--default", "make_default", is_flag=True, help="Make this the default profile.")
@click.option("--qpu", metavar="NAME", help="The profile's default QPU (name or record id).")
@connection_options
@click.pass_context
def login(
    ctx: click.Context,
    email: str | None,
    password: str | None,
    password_stdin: bool,
    token_stdin: bool,
    make_default: bool,
    qpu: str | None,
) -> None:
    """Check credentials against the server and save them as a profile.

    The token is read from stdin (--token-stdin), else QPI_API_TOKEN, else typed at the
    prompt without echo, and checked by listing your jobs. With --email, qpi logs in with
    the password (--password-stdin, else QPI_PASSWORD, else the prompt), creates a new API
    token named after this machine, and also keeps the login's session (never the password):
    a real QPI v0.1.2 server shows job results only to a logged-in user, and the client
    renews the session before it expires. --qpu saves the profile's default QPU. Secrets
    given as --token or --password still work but warn: other users of the machine can read
    process arguments. The profile (--profile, default "default") is written to the config
    file with mode 0600 (QPI_CONFIG, else <user config dir>/qpi/config.toml); the first
    profile saved becomes the default one. The
    token is never printed. The URL is --url, else QPI_URL, else the URL the profile
    already has, else http://localhost:8090.

    \b
    Examples:
      qpi login --url https://qpi.lab.example --profile lab --default
      qpi login --url https://qpi.lab.example --email me@lab.example --qpu qpu_sim_01
      printf '%s\\n' "$TOKEN" | qpi login --url http://127.0.0.1:8090 --token-stdin
    """
    from qpi.client import QPIClient

    opts = options_of(ctx)
    name = opts.profile or os.environ.get("QPI_PROFILE") or "default"
    url = _url_for(opts.url, name)
    token = opts.token
    session: str | None = None
    if email and (token or token_stdin):
        raise click.UsageError("give either --token or --email, not both")
    if password_stdin and token_stdin:
        raise click.UsageError("stdin holds one secret: give --password-stdin or --token-stdin")
    if email:
        password = _secret(
            password, password_stdin, "QPI_PASSWORD", "Password", "--password", "--password-stdin"
        )
        # profile=False: the profile being written (or a broken one) must not get in the way.
        with QPIClient(url, cache=False, profile=False) as client:
            session = client.auth_with_password(email, password).get("token")
            token = client.create_token(name=f"qpi-cli@{socket.gethostname()}")["token"]
    elif password is not None or password_stdin:
        raise click.UsageError("--password needs --email")
    else:
        token = _secret(
            token, token_stdin, "QPI_API_TOKEN", "API token", "--token", "--token-stdin"
        ).strip()
    with QPIClient(url, api_token=token, cache=False, profile=False) as client:
        client.list_jobs(limit=1)  # a bad token answers 401: exit status 4
    values = {"url": url, "api_token": token, "cache_dir": opts.cache_dir, "qpu": qpu}
    if email:
        values.update(email=email, session_token=session)
    values["cache_mode"] = opts.cache_mode
    path = save_profile(name, values, make_default=make_default, path=config_path())
    is_default = load_profiles(path).get("default_profile") == name
    if opts.json:
        emit_json(
            {
                "profile": name,
                "url": redact_url(url),
                "config_file": str(path),
                "default": is_default,
            }
        )
        return
    click.echo(f"Logged in to {redact_url(url)}; saved profile {name!r} to {path}")
    if is_default:
        click.echo(f"{name!r} is the default profile.")
    else:
        click.echo(f"Use it with --profile {name} or QPI_PROFILE={name}.")
