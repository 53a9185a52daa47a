"""`make run` ends with where to log in, and keeps the console quiet (pip, migrations, request lines)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from sandbox import run_with_app

ROOT = Path(__file__).resolve().parents[2]


class FinishedProcess:
    """A child of run_with_app that has already exited: its wait loop ends at once."""

    def __init__(self, args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def started(monkeypatch) -> list[FinishedProcess]:
    """run_with_app with its children faked: record what it starts, run nothing."""
    popens: list[FinishedProcess] = []

    def popen(args, **kwargs):
        popens.append(FinishedProcess(args, **kwargs))
        return popens[-1]

    monkeypatch.setattr(run_with_app.subprocess, "Popen", popen)
    monkeypatch.setattr(run_with_app.subprocess, "run", lambda args, **kwargs: print(f"ran {args[-1]}"))
    monkeypatch.setattr(run_with_app, "_wait_for", lambda url, processes: True)
    monkeypatch.setattr(run_with_app, "_register_demo_endpoint", lambda python, env: print("ran demo endpoint"))
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "desk-admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "desk-password")
    return popens


def test_the_login_banner_is_printed_last_with_the_url_and_credentials(started, capsys):
    # when
    run_with_app.main()
    # then
    out = capsys.readouterr().out
    banner = out[out.index("Groupdesk and the sandbox are running"):]
    assert out.index("ran seed_demo") < out.index("ran demo_superuser") < out.index(banner)
    assert f"Admin:    http://{run_with_app.APP_ADDRESS}/admin/" in banner
    assert "User:     desk-admin" in banner
    assert "Password: desk-password" in banner
    assert out.rstrip().endswith(f"API docs: http://{run_with_app.APP_ADDRESS}/api/docs/")


def test_runserver_start_up_text_stays_off_the_console(started):
    # when
    run_with_app.main()
    # then
    runserver = next(p for p in started if "runserver" in p.args)
    assert runserver.kwargs.get("stdout") == subprocess.DEVNULL
    assert "stderr" not in runserver.kwargs  # Warnings and errors still show.


@pytest.mark.django_db
def test_demo_superuser_prints_nothing_the_banner_would_repeat(monkeypatch, capsys):
    # given
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "desk-admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "desk-password")
    # when
    call_command("demo_superuser")
    # then
    assert capsys.readouterr().out == ""


def _make_run_commands() -> list[str]:
    """What `make run` would execute from scratch (-n: print only; -B: as if nothing were installed)."""
    result = subprocess.run(["make", "-n", "-B", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if k != "LOG_LEVEL"} | {"MAKEFLAGS": ""})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_make_run_installs_quietly_and_logs_only_warnings():
    # when
    commands = _make_run_commands()
    # then
    pip = next(line for line in commands if " pip install " in line)
    assert "--quiet" in pip
    assert "--disable-pip-version-check" in pip
    migrate = next(line for line in commands if "manage.py migrate" in line)
    assert "--verbosity 0" in migrate
    app = next(line for line in commands if "sandbox.run_with_app" in line)
    assert "LOG_LEVEL=WARNING" in app.split()
    assert "SANDBOX_LOG_LEVEL=WARNING" in app.split()


def test_at_warning_level_runserver_logs_no_line_per_successful_request():
    # when: the settings as `make run` loads them
    code = ("import django, logging, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
            "django.setup(); print(logging.getLogger('django.server').isEnabledFor(logging.INFO),"
            "logging.getLogger('django.server').isEnabledFor(logging.WARNING))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DEBUG": "true", "LOG_LEVEL": "WARNING"})
    # then: 200s and static files are not logged, 404s and 500s are
    assert result.stdout.split() == ["False", "True"], result.stderr


@pytest.mark.django_db
def test_ctrl_c_stops_the_periodic_tasks_without_a_traceback(monkeypatch):
    # given: Ctrl-C arrives while the loop waits for the next round
    from core.management.commands import run_periodic_tasks

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_periodic_tasks.time, "sleep", interrupted)
    # when / then: the command returns instead of raising
    try:
        call_command("run_periodic_tasks")
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped run_periodic_tasks: `make run` would print its traceback")


def test_make_run_hands_the_demo_endpoint_s_secret_to_the_sandbox_without_printing_it(monkeypatch, capsys):
    # given: the command answers with the secret on stdout; the sandbox takes it
    posted = []

    class Answer:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def run(args, **kwargs):
        assert args[2:4] == ["demo_webhook_endpoint", "--url"] and kwargs["capture_output"]
        return subprocess.CompletedProcess(args, 0, stdout="whsec_c2VjcmV0\n")

    def urlopen(request, timeout):
        posted.append((request.full_url, request.data))
        return Answer()

    monkeypatch.setattr(run_with_app.subprocess, "run", run)
    monkeypatch.setattr(run_with_app.urllib.request, "urlopen", urlopen)
    # when
    run_with_app._register_demo_endpoint(sys.executable, {})
    # then
    assert posted == [(f"{run_with_app.SANDBOX_URL}/_sandbox/events/secret", b'{"secret": "whsec_c2VjcmV0"}')]
    assert "whsec_" not in capsys.readouterr().out
    assert "Events:   " in run_with_app.login_banner("127.0.0.1:8000", {})
