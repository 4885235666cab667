"""What the benchmark scripts share: processes, core pinning, seeding, load generators.

A load run is described by a :class:`LoadSpec` and driven either by ``wrk`` (a generated Lua
script) or by ``bench/pyload.py``; both print one ``BENCH_JSON {...}`` line with the same keys,
so the scripts read either the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from partnercart.server.services.seed import sample_line_items

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SRC = ROOT / "src"
RESULTS = BENCH / "results"
NODE_DIR = BENCH / ".node"
PYTHON = sys.executable

WRK_INSTALL_HINT = (
    "wrk is not installed: on Debian/Ubuntu `sudo apt-get install -y wrk`, on macOS "
    "`brew install wrk`. Falling back to bench/pyload.py, a Python load generator (with wrk "
    "installed, `--compare-loadgen` measures one against the other)."
)


def line_items(count: int) -> list[dict[str, Any]]:
    """Valid lines of the default catalog, as Partner Center clients send them."""
    return sample_line_items(count)


def cart_body(lines: int) -> bytes:
    return json.dumps({"lineItems": line_items(lines)}).encode()


def customer_body() -> dict[str, Any]:
    return {
        "companyProfile": {"domain": f"bench{uuid.uuid4().hex[:10]}.onmicrosoft.com"},
        "billingProfile": {
            "email": "admin@contoso.example",
            "culture": "en-US",
            "language": "en",
            "companyName": "Contoso Bench",
            "defaultAddress": {
                "country": "US",
                "city": "Redmond",
                "state": "WA",
                "addressLine1": "One Microsoft Way",
                "postalCode": "98052",
            },
        },
    }


# --- cores -------------------------------------------------------------------------------


def cores() -> int:
    return len(os.sched_getaffinity(0))


def pinned(command: Sequence[str], core_list: str | None) -> list[str]:
    """``command`` under ``taskset -c core_list`` when taskset exists and there is a list."""
    if core_list is None or shutil.which("taskset") is None:
        return list(command)
    return ["taskset", "-c", core_list, *command]


@dataclass(frozen=True)
class Placement:
    """Which cores the server and the load generator get."""

    server: str | None
    load: str | None

    @classmethod
    def choose(cls, server_cores: int = 1) -> Placement:
        available = sorted(os.sched_getaffinity(0))
        if shutil.which("taskset") is None or len(available) <= server_cores:
            return cls(None, None)
        server = ",".join(str(c) for c in available[:server_cores])
        load = ",".join(str(c) for c in available[server_cores:])
        return cls(server, load)

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (taskset missing or too few cores)"
        return f"server on core(s) {self.server}, load generator on core(s) {self.load}"


# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_env() -> dict[str, str]:
    """This checkout's ``src`` first, whatever the virtualenv has installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def rss_kib(self) -> int | None:
        """VmRSS of the process (taskset execs, so the pid is the server's own)."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)


def start(
    name: str,
    command: Sequence[str],
    *,
    log_dir: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Process:
    """``command`` in its own process group, its output in ``log_dir/name.log``; ``env`` is
    laid over :func:`child_env`."""
    log = log_dir / f"{name}.log"
    handle = log.open("wb")
    popen = subprocess.Popen(
        list(command),
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=child_env() | dict(env or {}),
        start_new_session=True,  # its own process group, so stop() ends it and its children
    )
    return Process(name, popen, log)


def wait_http(process: Process, url: str, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early; see {process.log}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout:.0f}s")


@contextlib.contextmanager
def running(processes: list[Process]) -> Iterator[list[Process]]:
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


# --- partnercart -------------------------------------------------------------------------


def serve_supports_workers() -> bool:
    out = subprocess.run(
        [PYTHON, "-m", "partnercart", "serve", "--help"],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    ).stdout
    return "--workers" in out


def extra_serve_args() -> list[str]:
    """More ``serve`` options for an experiment, from PARTNERCART_BENCH_SERVE_ARGS."""
    return shlex.split(os.environ.get("PARTNERCART_BENCH_SERVE_ARGS", ""))


def start_partnercart(
    *,
    port: int,
    data_dir: Path,
    placement: Placement,
    log_dir: Path,
    database: str | None = None,
    workers: int = 1,
    name: str = "partnercart",
    extra: Sequence[str] = (),
) -> Process:
    command = [PYTHON, "-m", "partnercart", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    if database:
        command += ["--database", database]
    if workers > 1:
        command += ["--workers", str(workers)]
    command += [*extra, *extra_serve_args()]
    process = start(name, pinned(command, placement.server), log_dir=log_dir)
    wait_http(process, f"http://127.0.0.1:{port}/_partnercart/ping")
    return process


def token(tenant: str, data_dir: Path) -> str:
    return subprocess.run(
        [PYTHON, "-m", "partnercart", "token", "--tenant", tenant, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    ).stdout.strip()


def headers(bearer: str) -> dict[str, str]:
    """Every header a Partner Center client sends (MS-RequestId is made fresh per request)."""
    return {
        "Authorization": f"Bearer {bearer}",
        "MS-CorrelationId": str(uuid.uuid4()),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


@dataclass
class Seeded:
    customer_id: str
    cart_ids: list[str]
    cart_documents: list[dict[str, Any]]

    def cart_paths(self) -> list[str]:
        return [f"/v1/customers/{self.customer_id}/carts/{c}" for c in self.cart_ids]


def seed_over_api(base: str, bearer: str, *, carts: int, lines: int) -> Seeded:
    """One customer and ``carts`` carts of ``lines`` lines, made through the public API."""
    with httpx.Client(base_url=base, timeout=30) as client:
        hdrs = headers(bearer) | {"MS-RequestId": str(uuid.uuid4())}
        response = client.post("/v1/customers", json=customer_body(), headers=hdrs)
        response.raise_for_status()
        customer_id = response.json()["id"]
        ids: list[str] = []
        documents: list[dict[str, Any]] = []
        for _ in range(carts):
            hdrs = headers(bearer) | {"MS-RequestId": str(uuid.uuid4())}
            response = client.post(
                f"/v1/customers/{customer_id}/carts", content=cart_body(lines), headers=hdrs
            )
            response.raise_for_status()
            documents.append(response.json())
            ids.append(documents[-1]["id"])
    return Seeded(customer_id, ids, documents)


# --- load --------------------------------------------------------------------------------


@dataclass
class LoadSpec:
    """One load run: the requests to send and for how long.

    ``mode``: ``cycle`` walks ``paths`` in order; ``random`` picks a path at random per request;
    ``create_checkout`` alternates ``POST paths[0]`` (create a cart) with a checkout of the cart
    the last create returned.
    """

    port: int
    paths: list[str]
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    mode: str = "cycle"
    checkout_body: str = ""
    duration: float = 10.0
    connections: int = 32
    threads: int = 1
    request_ids: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))


WRK_DONE = r"""done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.6f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,"errors_status":%d,"errors_socket":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    latency.mean / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def is_plain(spec: LoadSpec) -> bool:
    """A fixed request wrk can send without running Lua per request."""
    return (
        spec.mode == "cycle"
        and len(spec.paths) == 1
        and spec.method == "GET"
        and not spec.headers
        and spec.body is None
        and not spec.request_ids
    )


def wrk_lua(spec: LoadSpec) -> str:
    if is_plain(spec):
        # No request(): wrk sends its one prebuilt request, the cheapest load it can make.
        return "-- generated by bench/harness.py\n" + WRK_DONE
    hdrs = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in spec.headers.items())
    paths = ", ".join(_lua_string(p) for p in spec.paths)
    body = "nil" if spec.body is None else _lua_string(spec.body)
    return f"""-- generated by bench/harness.py
local paths = {{{paths}}}
local base = {{{hdrs}}}
local method = {_lua_string(spec.method)}
local body = {body}
local mode = {_lua_string(spec.mode)}
local checkout_body = {_lua_string(spec.checkout_body)}
local request_ids = {"true" if spec.request_ids else "false"}
local counter = 0
local pending = {{}}
local nthreads = 0

setup = function(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

local crlf = "\\r\\n"
local host = "Host: 127.0.0.1:{spec.port}" .. crlf
local static = ""
for k, v in pairs(base) do static = static .. k .. ": " .. v .. crlf end

local function tail_for(b)
  if b == nil then return crlf end
  return "Content-Length: " .. #b .. crlf .. crlf .. b
end
local body_tail = tail_for(body)
if body == nil and method ~= "GET" then body_tail = "Content-Length: 0" .. crlf .. crlf end
local checkout_tail = "Content-Length: 0" .. crlf .. crlf
if checkout_body ~= "" then checkout_tail = tail_for(checkout_body) end
local heads = {{}}
for i, p in ipairs(paths) do
  heads[i] = method .. " " .. p .. " HTTP/1.1" .. crlf .. host .. static
end

-- A fresh MS-RequestId per request: a random version 4 GUID, as the SDKs send (Guid.NewGuid(),
-- uuid4()), so the stored answers' key index takes each one at a random place, as it does in
-- use. The seed is new for each script, so warm-up and run never send the same ids, and each
-- thread adds its number to it, so no two threads send the same ones.
local seed = {int.from_bytes(os.urandom(4), "big") % 2**30}
init = function(args)
  math.randomseed(seed + (tid or 0) * 7919)
end
local random = math.random
local rid_format = "MS-RequestId: %08x-%04x-4%03x-%04x-%06x%06x" .. crlf
local function rid()
  if not request_ids then return "" end
  return string.format(rid_format, random(0, 0x7fffffff) * 2 + random(0, 1), random(0, 0xffff),
    random(0, 0xfff), 0x8000 + random(0, 0x3fff), random(0, 0xffffff), random(0, 0xffffff))
end

request = function()
  counter = counter + 1
  if mode == "random" then
    return heads[math.random(#heads)] .. rid() .. body_tail
  elseif mode == "create_checkout" then
    local id = table.remove(pending)
    if id ~= nil then
      return "POST " .. paths[1] .. "/" .. id .. "/checkout HTTP/1.1" .. crlf .. host ..
        static .. rid() .. checkout_tail
    end
    return heads[1] .. rid() .. body_tail
  end
  return heads[(counter % #heads) + 1] .. rid() .. body_tail
end

if mode == "create_checkout" then
  response = function(status, headers, resp)
    if status == 201 then
      local id = string.match(resp, '^{{"id":"([0-9a-f%-]+)"')
      if id ~= nil then table.insert(pending, id) end
    end
  end
end

{WRK_DONE}"""


@dataclass
class LoadResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors_status: int
    errors_socket: int
    generator: str = "wrk"

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.errors_status + self.errors_socket


def _parse(output: str, generator: str) -> LoadResult:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            return LoadResult(**data, generator=generator)
    raise RuntimeError(f"{generator} printed no result:\n{output}")


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def drive(spec: LoadSpec, *, placement: Placement, generator: str, work_dir: Path) -> LoadResult:
    """Run one load spec with ``wrk`` or ``pyload`` on the load generator's cores."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if generator == "wrk":
        script = work_dir / "load.lua"
        script.write_text(wrk_lua(spec))
        command = ["wrk", f"-t{spec.threads}", f"-c{spec.connections}"]
        command += [f"-d{max(1, round(spec.duration))}s", "--timeout", "10s"]
        path = spec.paths[0] if is_plain(spec) else ""
        command += ["-s", str(script), f"http://127.0.0.1:{spec.port}{path}"]
    else:
        spec_file = work_dir / "load.json"
        spec_file.write_text(spec.to_json())
        command = [PYTHON, str(BENCH / "pyload.py"), str(spec_file)]
    done = subprocess.run(
        pinned(command, placement.load),
        capture_output=True,
        text=True,
        timeout=spec.duration + 120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{generator} failed ({done.returncode}):\n{done.stderr}")
    return _parse(done.stdout, generator)


# --- npm peers ---------------------------------------------------------------------------

NPM_PACKAGES = ("@stoplight/prism-cli@5", "json-server@0.17")


def node_bin(name: str) -> Path:
    return NODE_DIR / "node_modules" / ".bin" / name


def ensure_peers() -> str | None:
    """Install Prism and json-server from the npm registry into ``bench/.node``.

    Returns ``None`` when both are there, or why they cannot be run.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not installed (Debian: `sudo apt-get install -y nodejs npm`)"
    if node_bin("prism").exists() and node_bin("json-server").exists():
        return None
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    manifest = NODE_DIR / "package.json"
    if not manifest.exists():
        manifest.write_text('{"name": "partnercart-bench-peers", "private": true}\n')
    print(f"installing {' '.join(NPM_PACKAGES)} into {NODE_DIR} from the npm registry ...")
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", *NPM_PACKAGES],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"npm install failed: {done.stderr.strip()[-500:]}"
    return None


def json_server_command(port: int, documents: list[dict[str, Any]], work: Path) -> list[str]:
    """json-server answering GET cart at partnercart's own URL with ``documents`` (its db and
    routes files are written into ``work``)."""
    db = work / "db.json"
    db.write_text(json.dumps({"carts": documents}))
    routes = work / "routes.json"
    routes.write_text(json.dumps({"/v1/customers/:customer/carts/:id": "/carts/:id"}))
    command = [str(node_bin("json-server")), "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--quiet", "--routes", str(routes), str(db)]


#: The routes the side-by-side benches measure, the fixed body first.
ROUTES = ("trivial", "get", "put", "create", "checkout")


def interpreter() -> str:
    """The Python that runs the servers (:data:`PYTHON`, this one): ``CPython 3.11.7``. The
    figures depend on it (docs/decisions.md), so every report names it."""
    return f"{platform.python_implementation()} {platform.python_version()}"


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def add_results_option(parser: argparse.ArgumentParser) -> None:
    """``--results DIR``: where a bench script puts its run's folder (``bench/results``)."""
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="where the run's folder (report.md, results.json, logs) goes (bench/results)",
    )
