"""`make audit` (.ci/audit) never reports "clean" when pip-audit could not reach the vulnerability data.

pip-audit itself is replaced by a stub (PIP_AUDIT) that plays each situation; no network is used.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CANARY_VULNERABLE = '{"dependencies": [{"name": "django", "version": "3.2", "vulns": [{"id": "PYSEC-2021-98"}]}]}'
CANARY_SKIPPED = ('{"dependencies": [{"name": "django", "skip_reason": '
                  '"Dependency not found on PyPI and could not be audited: django (3.2)"}], "fixes": []}')


def _stub(tmp_path: Path, *, canary: str, audit_exit: int) -> Path:
    """A pip-audit that writes `canary` for the canary run and exits `audit_exit` for the real one."""
    script = tmp_path / "pip-audit"
    script.write_text(
        "#!/usr/bin/env bash\n"
        f"echo \"$@\" >> {tmp_path}/calls\n"
        'for ((i=1; i<=$#; i++)); do if [ "${!i}" = "--output" ]; then j=$((i+1)); out=${!j}; fi; done\n'
        f"if [ -n \"${{out:-}}\" ]; then echo '{canary}' > \"$out\"; exit 1; fi\n"
        f"exit {audit_exit}\n"
    )
    script.chmod(0o755)
    return script


def _run(stub: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", ".ci/audit"], cwd=ROOT, env={**os.environ, "PIP_AUDIT": str(stub)},
                          capture_output=True, text=True, timeout=60)


def test_an_unreachable_vulnerability_service_fails_loudly_without_auditing(tmp_path):
    # when
    result = _run(_stub(tmp_path, canary=CANARY_SKIPPED, audit_exit=0))
    # then
    assert result.returncode == 2
    assert "cannot get vulnerability data" in result.stderr
    assert "Dependency not found on PyPI" in result.stderr
    assert len((tmp_path / "calls").read_text().splitlines()) == 1  # The real audit never ran.


@pytest.mark.parametrize("audit_exit", [0, 1])
def test_with_the_service_answering_the_audit_decides(tmp_path, audit_exit):
    # when
    result = _run(_stub(tmp_path, canary=CANARY_VULNERABLE, audit_exit=audit_exit))
    # then
    assert result.returncode == audit_exit
    real = (tmp_path / "calls").read_text().splitlines()[-1]
    assert "--strict" in real
    assert "-r requirements.txt" in real
