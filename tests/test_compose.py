"""Static checks of docker-compose.yml and the Dockerfile against the settings (no Docker, no Django, no database)."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_DIR = ROOT / "shop_search" / "settings"
APP_SERVICES = ("migrate", "web", "worker", "beat")

# env("NAME", ...), env.str("NAME", ...), env.bool(...), env.db("NAME"), ...: the names the settings read.
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
# CELERY_TASK_DEFAULT_QUEUE = "default", QUEUE_EMBEDDINGS = "embeddings", ...
QUEUE_NAME = re.compile(r"""^(?:CELERY_TASK_DEFAULT_QUEUE|QUEUE_\w+)\s*=\s*["']([^"']+)["']""", re.MULTILINE)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def settings_env_names() -> set[str]:
    names = set()
    for path in SETTINGS_DIR.glob("*.py"):
        names.update(ENV_READ.findall(path.read_text()))
    return names


def settings_queue_names() -> set[str]:
    return set(QUEUE_NAME.findall((SETTINGS_DIR / "celery.py").read_text()))


def argv(command) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(command)


def option_value(args: list[str], *names: str) -> str:
    for i, arg in enumerate(args):
        if arg in names:
            return args[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"none of {names} in {args}")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    if current:
        logical.append(current)
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def test_settings_scan_finds_the_known_names():
    # Guards the regex: if it stopped matching, the subset check below would pass vacuously or fail for no reason.
    assert {"DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= settings_env_names()


def test_services_exist(services):
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)


def test_db_is_postgres_with_pgvector(services):
    assert services["db"]["image"].startswith("pgvector/pgvector")


@pytest.mark.parametrize("name", ["db", "db-replica", "redis", "web", "worker"])
def test_long_running_services_have_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)
    assert healthcheck.get("test"), f"{name}'s healthcheck has no test"


def test_web_healthcheck_calls_readyz_without_curl(services):
    test = services["web"]["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else test
    assert "localhost:8000/readyz" in text  # healthy once warmed up, not merely alive
    assert "urllib" in text
    assert "curl" not in text


def test_app_services_share_one_environment(compose, services):
    shared = compose["x-app-env"]
    for name in APP_SERVICES:
        assert services[name]["environment"] == shared, f"{name} does not use the shared environment"
    assert shared["DJANGO_ENV"] == "production"
    assert shared["DATABASE_URL"].startswith("postgres://") and "@db:" in shared["DATABASE_URL"]
    assert shared["REDIS_URL"].startswith("redis://redis:")
    # Required, never defaulted: compose refuses to start without it.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", shared["SECRET_KEY"])


def test_database_url_matches_the_db_service(compose, services):
    db_env = services["db"]["environment"]
    expected = f"postgres://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}@db:5432/{db_env['POSTGRES_DB']}"
    assert compose["x-app-env"]["DATABASE_URL"] == expected


def test_every_app_environment_variable_is_read_by_the_settings(compose, services):
    read = settings_env_names()
    environments = [compose["x-app-env"]] + [services[name]["environment"] for name in APP_SERVICES]
    unknown = {key for environment in environments for key in environment} - read
    assert not unknown, f"set in docker-compose.yml but never read by shop_search/settings: {sorted(unknown)}"


def test_allowed_hosts_default_lets_the_healthcheck_in(compose):
    match = re.fullmatch(r"\$\{ALLOWED_HOSTS:-([^}]*)\}", compose["x-app-env"]["ALLOWED_HOSTS"])
    assert match
    assert "localhost" in match.group(1).split(",")


def test_media_volume_is_shared_by_web_and_worker(compose, services):
    media_root = compose["x-app-env"]["MEDIA_ROOT"]
    for name in ("web", "worker"):
        assert f"media:{media_root}" in services[name]["volumes"], f"{name} does not mount the media volume"
    assert "media" in compose["volumes"]


def test_worker_consumes_every_queue_the_settings_route_to(services):
    queues = settings_queue_names()
    assert {"default", "embeddings", "reindex"} <= queues
    args = argv(services["worker"]["command"])
    assert args[:4] == ["celery", "-A", "shop_search", "worker"]
    consumed = set(option_value(args, "-Q", "--queues").split(","))
    assert queues <= consumed, f"queues nobody consumes: {sorted(queues - consumed)}"


def test_beat_keeps_its_schedule_on_a_volume(services):
    args = argv(services["beat"]["command"])
    assert args[:4] == ["celery", "-A", "shop_search", "beat"]
    schedule = option_value(args, "-s", "--schedule")
    mounts = [volume.split(":")[1] for volume in services["beat"].get("volumes", [])]
    assert any(schedule.startswith(mount.rstrip("/") + "/") for mount in mounts), (schedule, mounts)


def test_app_services_start_after_migrations(services):
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_web_servers_warm_up_through_the_gunicorn_config(services):
    cmd = next(args for instruction, args in dockerfile_instructions() if instruction == "CMD")
    for args in (argv(services["web"]["command"]), json.loads(cmd)):
        assert args[0] == "gunicorn"
        assert option_value(args, "-c", "--config") == "shop_search/gunicorn.conf.py"
    assert (ROOT / "shop_search" / "gunicorn.conf.py").is_file()


def test_dockerfile_installs_cpu_torch():
    runs = [args for instruction, args in dockerfile_instructions() if instruction == "RUN"]
    installs = [args for args in runs if "pip install" in args and "requirements.txt" in args]
    assert installs, "no RUN pip install -r requirements.txt"
    assert any("--extra-index-url https://download.pytorch.org/whl/cpu" in args for args in installs)


def test_dockerfile_runs_as_non_root_user():
    instructions = dockerfile_instructions()
    users = [args.strip() for instruction, args in instructions if instruction == "USER"]
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # The last USER must come before CMD, or it would not apply to the default command.
    names = [instruction for instruction, _ in instructions]
    assert max(i for i, n in enumerate(names) if n == "USER") < names.index("CMD")


def test_dockerfile_does_not_bake_a_secret_key():
    for instruction, args in dockerfile_instructions():
        if instruction in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args


def test_dockerfile_installs_requirements_before_copying_the_source():
    instructions = dockerfile_instructions()
    copies = [(i, args) for i, (instruction, args) in enumerate(instructions) if instruction == "COPY"]
    requirements = min(i for i, args in copies if "requirements.txt" in args)
    source = min(i for i, args in copies if args.split()[-2:] == [".", "."])
    install = next(i for i, (n, args) in enumerate(instructions) if n == "RUN" and "pip install" in args)
    assert requirements < install < source


# --- a primary, a streaming replica, several workers ------------------------------------------------------------


def mounted_scripts(service: dict) -> dict[str, Path]:
    """Container path -> the repository file of each ``./`` bind mount of a service."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = ROOT / source
    return mounts


def test_db_replica_is_a_streaming_replica_of_db(compose, services):
    # given the replica service and the script its entry point runs
    replica = services["db-replica"]
    assert replica["image"] == services["db"]["image"]  # pgvector there too: search reads vectors from it
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    entrypoint = argv(replica["entrypoint"])
    text = mounted_scripts(replica)[entrypoint[-1]].read_text()
    # then on an empty volume it copies the primary it names as a standby (-R), and hands over to the image's own
    # entry point, which starts PostgreSQL on that copy
    assert replica["environment"]["PRIMARY_HOST"] == "db"
    assert "pg_basebackup" in text and "--write-recovery-conf" in text and "--wal-method=stream" in text
    assert 'PG_VERSION" ]' in text and 'exec docker-entrypoint.sh "$@"' in text
    assert argv(replica["command"])[0] == "postgres" and "hot_standby_feedback=on" in argv(replica["command"])
    # and its data lives on a volume of its own
    data = [volume.split(":")[0] for volume in replica["volumes"] if volume.endswith("/var/lib/postgresql/data")]
    assert data == ["replicadata"] and "replicadata" in compose["volumes"]


def test_db_lets_the_replica_stream_with_its_own_role(services):
    # given the script the primary runs once on an empty volume
    db, replica = services["db"], services["db-replica"]
    scripts = mounted_scripts(db)
    init = [path for target, path in scripts.items() if target.startswith("/docker-entrypoint-initdb.d/")]
    assert len(init) == 1
    text = init[0].read_text()
    # then it makes a replication role and lets it connect for replication, with the credentials the replica uses
    assert "WITH REPLICATION LOGIN" in text and "host replication $REPLICATION_USER" in text
    for name in ("REPLICATION_USER", "REPLICATION_PASSWORD"):
        assert db["environment"][name] == replica["environment"][name]


def test_replica_scripts_are_valid_bash():
    import subprocess

    for script in (ROOT / "docker").glob("*.sh"):
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0, script


def test_web_reads_from_the_replica_with_the_primarys_credentials(compose, services):
    shared = compose["x-app-env"]
    primary = shared["DATABASE_URL"]
    replicas = shared["DATABASE_REPLICA_URLS"].split(",")
    assert services["web"]["environment"]["DATABASE_REPLICA_URLS"] == shared["DATABASE_REPLICA_URLS"]
    assert replicas == [primary.replace("@db:", "@db-replica:")]
    assert "DATABASE_REPLICA_URLS" in settings_env_names()


def test_several_workers(services):
    assert services["worker"]["deploy"]["replicas"] >= 2
