"""The SDK, CLI and pytest-plugin examples of README.md run as written: the Python blocks
against a real server, the shell block under bash with the real CLI, and the plugin example under
``pytest -n 2`` in a separate process.

A tested block is the fenced block right after an ``<!-- test: NAME -->`` line: ``sdk`` and
``sdk-checkout`` (Python, run in order in one namespace), ``cli`` (bash) and ``pytest-plugin``
(a test file). Other README blocks are not run here."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from partnercart.testing._server import RunningServer

README = Path(__file__).resolve().parents[2] / "README.md"
SRC = Path(__file__).resolve().parents[2] / "src"
FENCE = re.compile(r"<!-- test: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    name: str
    lang: str
    code: str

    @property
    def file_name(self) -> str | None:
        first = self.code.splitlines()[0] if self.code else ""
        return first.removeprefix("# file:").strip() if first.startswith("# file:") else None


def blocks(*names: str) -> list[Block]:
    text = README.read_text(encoding="utf-8")
    found = [Block(m["name"], m["lang"], m["code"]) for m in FENCE.finditer(text)]
    return [b for b in found if b.name in names]


def snippets() -> list[Block]:
    """The SDK examples, in README order (the checkout block uses names the first one made)."""
    return blocks("sdk", "sdk-checkout")


def test_the_readme_has_the_examples_this_test_runs() -> None:
    assert len(snippets()) >= 3
    assert all(b.lang == "python" and b.file_name is None for b in snippets())
    assert [b.name for b in snippets()].count("sdk-checkout") == 1
    (cli,) = blocks("cli")
    assert cli.lang == "bash"
    (plugin,) = blocks("pytest-plugin")
    assert plugin.lang == "python" and plugin.file_name == "test_my_integration.py"
    for block in [*snippets(), plugin]:
        compile(block.code, README.name, "exec")


def test_readme_python_examples_run(
    partnercart_server: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PARTNERCART_URL", partnercart_server.url)
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in snippets():
        exec(compile(block.code, f"{README.name} block {block.name}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Active" in out
    assert "404 800008" in out  # the NotFoundError example printed status and code
    assert ".onmicrosoft.com" in out
    assert "pending monthly" in out  # the checkout block printed the order it made
    assert len(namespace["monthly"]) == 1  # type: ignore[arg-type]


def _shims(bin_dir: Path) -> None:
    """``partnercart`` and ``python`` on PATH that run this checkout's code."""
    bin_dir.mkdir()
    for name, command in (
        ("partnercart", f'exec "{sys.executable}" -m partnercart "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
    ):
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{command}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = tmp_path / "bin"
    _shims(bin_dir)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    for key in ("PARTNERCART_TENANT", "PARTNERCART_TOKEN"):
        env.pop(key, None)
    env.update(extra)
    return env


def test_readme_cli_example_runs(partnercart_server: RunningServer, tmp_path: Path) -> None:
    (script,) = blocks("cli")
    env = _env(tmp_path, PARTNERCART_URL=partnercart_server.url)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contoso" in done.stdout
    assert "20 cart(s) created" in done.stdout
    assert "exit code 4" in done.stdout
    assert '"quantity": 8' in (tmp_path / "cart.json").read_text()


PROBE_CONFTEST = """
import json, os, pathlib
import pytest

@pytest.fixture(autouse=True)
def _record_server(partnercart_server):
    out = pathlib.Path(os.environ["PROBE_DIR"])
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (out / f"{worker}-{os.getpid()}.json").write_text(json.dumps({"url": partnercart_server.url}))
"""

PROBE_TESTS = """
def test_probe_1(): pass
def test_probe_2(): pass
def test_probe_3(): pass
def test_probe_4(): pass
"""


@pytest.mark.slow
def test_readme_plugin_example_passes_under_xdist_with_one_shared_server(tmp_path: Path) -> None:
    (example,) = blocks("pytest-plugin")
    project = tmp_path / "project"
    project.mkdir()
    assert example.file_name is not None
    (project / example.file_name).write_text(example.code)
    (project / "conftest.py").write_text(PROBE_CONFTEST)  # records which server each test saw
    (project / "test_probe.py").write_text(PROBE_TESTS)
    probes = tmp_path / "probes"
    probes.mkdir()
    # Plugins are loaded by name so the run does not depend on installed entry points.
    env = _env(tmp_path, PROBE_DIR=str(probes), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "xdist.plugin",
            "-p",
            "partnercart.testing.plugin",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "basetemp"),
            "-q",
            example.file_name,
            "test_probe.py",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout
    records = [json.loads(p.read_text()) for p in probes.iterdir()]
    workers = {p.name.split("-")[0] for p in probes.iterdir()}
    assert workers == {"gw0", "gw1"}  # both workers ran probes...
    urls = {r["url"] for r in records}
    assert len(urls) == 1  # ...against one shared server
    # and the last worker stopped it
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{urls.pop()}/_partnercart/ping", timeout=2)


def _plugin_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Testing with the pytest plugin")
    return text[start : text.index("\n## ", start + 1)]


def test_readme_says_how_the_plugin_is_loaded_as_pytest_does(tmp_path: Path) -> None:
    """Installed, the plugin loads by its entry point; naming it as well (``-p`` or
    ``pytest_plugins``) makes pytest refuse with the message the README quotes, and the
    README says the plugin needs POSIX (fcntl)."""
    from importlib.metadata import entry_points

    if not any(e.name == "partnercart" for e in entry_points(group="pytest11")):
        pytest.skip("partnercart's pytest11 entry point is not installed here")
    section = _plugin_section()
    assert "POSIX" in section and "fcntl" in section
    refusal = "Plugin already registered under a different name"
    assert refusal in section
    project = tmp_path / "project"
    project.mkdir()
    test = "def test_it(partner_tenant):\n    assert partner_tenant\n"
    (project / "test_tenant.py").write_text(test)
    env = _env(tmp_path)
    for key in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(key, None)

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
        return subprocess.run(
            [*command, "test_tenant.py"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    alone = pytest_run()
    assert alone.returncode == 0, alone.stdout + alone.stderr  # loaded by itself
    named = pytest_run("-p", "partnercart.testing.plugin")
    assert named.returncode != 0 and refusal in named.stdout + named.stderr
    (project / "conftest.py").write_text('pytest_plugins = ["partnercart.testing.plugin"]\n')
    listed = pytest_run()
    assert listed.returncode != 0 and refusal in listed.stdout + listed.stderr


def test_readme_checkout_example_against_published_samples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The checkout block also reads the published answers (orders of several kinds)."""
    from partnercart.client import BillingCycle, Cart, PartnerCenter
    from tests.client.fakes import Script, json_response, sample

    (noted,) = blocks("sdk-checkout")
    script = Script(
        [
            json_response(201, sample("checkout-a-cart.json")),
            json_response(200, sample("provisioning-status.json")),
            json_response(200, sample("subscriptions-by-order.json")),
            json_response(200, sample("get-orders-by-billing-cycle.json")),
        ]
    )

    def mocked_client(server: str, credential: str) -> PartnerCenter:
        return PartnerCenter(server, credential, transport=script.transport())

    class Known:
        id = "d6bf25b7-e0a8-4f2d-a31b-97b55cfc774d"

    namespace: dict[str, object] = {
        "PartnerCenter": mocked_client,
        "BillingCycle": BillingCycle,
        "server": "https://api.partnercenter.microsoft.com",
        "credential": "token",
        "customer": Known(),
        "cart": Cart(id="65faf57b-0205-47ee-92b3-08dcf233ea73", line_items=[]),
    }
    exec(compile(noted.code, README.name, "exec"), namespace)
    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in script.requests] == [
        ("POST", "checkout"),
        ("GET", "provisioningstatus"),
        ("GET", "subscriptions"),
        ("GET", "orders"),
    ]
    assert "VulAvcXKPvZqsyAAaahiT7Ii0QEJuReH1 completed one_time" in capsys.readouterr().out
    assert len(namespace["monthly"]) == 2  # type: ignore[arg-type]
