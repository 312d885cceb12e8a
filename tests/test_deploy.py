"""The deployment files for several processes agree with each other and with the config."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_webhook import SECRET
from tests.world import settings_for_tests

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
PORT_VARIABLES = ("TELEGRAM_WEBHOOK_PORT", "WECHAT_PORT", "WECOM_PORT")


def procfile_ports() -> dict[str, dict[str, str]]:
    """Each Procfile process's port variables."""
    processes = {}
    for line in (DEPLOY / "Procfile").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name] = dict(re.findall(r"(\w+_PORT)=(\d+)", command))
    return processes


def env_file(path: Path) -> dict[str, str]:
    lines = path.read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")


def test_every_process_has_ports_of_its_own() -> None:
    processes = procfile_ports()
    assert len(processes) == 3
    ports = [p for variables in processes.values() for p in variables.values()]
    assert all(set(v) == set(PORT_VARIABLES) for v in processes.values())
    assert len(set(ports)) == len(ports)


def test_the_systemd_instances_have_the_procfiles_ports() -> None:
    instances = [env_file(DEPLOY / "systemd" / f"{n}.env") for n in (1, 2, 3)]
    assert instances == list(procfile_ports().values())


def test_the_load_balancer_spreads_each_channel_over_every_process() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text("utf-8")
    for variable, upstream in zip(PORT_VARIABLES, ("telegram", "wechat", "wecom"), strict=True):
        servers = re.search(rf"upstream civic_{upstream}\s*{{([^}}]*)}}", nginx)
        assert servers is not None
        listed = re.findall(r"127\.0\.0\.1:(\d+)", servers.group(1))
        assert listed == [v[variable] for v in procfile_ports().values()]


def test_a_process_reads_its_webhook_port_from_its_environment(tmp_path: Path) -> None:
    telegram = {"webhook_url": "https://bot.example.org/telegram", "webhook_port": 8440}
    for variables in procfile_ports().values():
        environ = {"TELEGRAM_WEBHOOK_SECRET": SECRET, **variables}
        settings = settings_for_tests(tmp_path / "civic.db", environ, telegram=telegram)
        assert settings.telegram.webhook_port == int(variables["TELEGRAM_WEBHOOK_PORT"])
