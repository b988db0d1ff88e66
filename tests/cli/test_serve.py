"""`qpi serve` in a real process: it serves the API, and SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest


@pytest.mark.timeout(90)
def test_serve_until_sigterm(qpi, tmp_path, bell_file) -> None:
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qpi.cli", "serve", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(banner)
        assert "listening on http://127.0.0.1:" in text, text + proc.stderr.read()
        url = text.split("listening on ")[1].split()[0]
        token = text.split("API token")[1].split()[0]
        assert (data_dir / "credentials.json").exists()

        result = qpi("run", str(bell_file), "-s", "100", "--url", url, "--token", token)
        assert result.exit_code == 0, result.stderr
        assert "on the server" in result.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Stopping..." in out
    # The access log (on by default): one line per request, with its status.
    assert '"POST /api/jobs HTTP/1.1" 201' in out, out
