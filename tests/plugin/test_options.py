"""Settings: one table, CLI > environment > ini > default, with clear errors (via pytester)."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _quiet_asyncio(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inline runs have no pyproject: pytest-asyncio would warn that its loop scope is unset."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o asyncio_default_fixture_loop_scope=function")


SHOW = """
import chaos

def test_show(request):
    s = chaos.get_config(request)
    print("URL", s.toxiproxy_url, "FROM", s.sources["toxiproxy_url"])
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(SHOW)
    return pytester.runpytest("-s", "-p", "no:cacheprovider", *args)


def test_default_is_none(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    run(pytester).stdout.fnmatch_lines(["*URL None FROM default"])


def test_ini_then_env_then_cli(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    pytester.makeini("[pytest]\ntoxiproxy_url = http://127.0.0.1:1111\n")
    run(pytester).stdout.fnmatch_lines(["*URL http://127.0.0.1:1111 FROM ini toxiproxy_url"])
    monkeypatch.setenv("TOXIPROXY_URL", "http://127.0.0.1:2222")
    run(pytester).stdout.fnmatch_lines(["*URL http://127.0.0.1:2222 FROM environment*"])
    result = run(pytester, "--toxiproxy-url", "http://127.0.0.1:3333/")
    result.stdout.fnmatch_lines(["*URL http://127.0.0.1:3333 FROM command line --toxiproxy-url"])


def test_bad_value_names_option_value_and_source(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nchaos_port_range = 9000-100\n")
    result = run(pytester)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*invalid --chaos-port-range value '9000-100' (from ini*"])


def test_report_header_shows_active_settings(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--chaos-port-range", "20000-20999")
    result.stdout.fnmatch_lines(["pytest-chaos: *chaos_port_range=20000-20999 (command line*"])


def test_marker_is_registered_with_its_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.chaos(toxiproxy_url=None*"])


def test_unknown_marker_setting_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.chaos(toxiproxy_ulr="http://x")
        def test_one(service):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*unknown pytest-chaos setting 'toxiproxy_ulr'*"])


def test_unreachable_external_server_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one(toxiproxy):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--toxiproxy-url", "http://127.0.0.1:9")
    result.stdout.fnmatch_lines(
        [
            "*Toxiproxy server at http://127.0.0.1:9 (from command line --toxiproxy-url) is "
            "unreachable*drop --toxiproxy-url*"
        ]
    )


def test_an_unknown_backend_lists_the_known_ones(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--chaos-backend", "kubernetes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*invalid --chaos-backend value 'kubernetes' (from command line --chaos-backend)*"
            "available: local, docker*"
        ]
    )


def test_image_settings_come_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAOS_BACKEND", "docker")
    monkeypatch.setenv("CHAOS_RABBITMQ_IMAGE", "rabbitmq:3")
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "pytest-chaos: *chaos_backend=docker (environment $CHAOS_BACKEND)*"
            "chaos_proxy_image=chaos-proxy:local (default)*"
            "chaos_rabbitmq_image=rabbitmq:3 (environment $CHAOS_RABBITMQ_IMAGE)*"
        ]
    )
    bad = run(pytester, "--chaos-sample-image", "my image")
    bad.stderr.fnmatch_lines(["*invalid --chaos-sample-image value 'my image'*"])


def test_every_plugin_fixture_has_a_docstring_in_pytest_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    parts = re.split(r"-+ fixtures defined from (\S+) -+", result.stdout.str())
    section = "".join(
        body
        for name, body in zip(parts[1::2], parts[2::2], strict=True)
        if name.startswith("chaos.")
    )
    names = [
        "toxiproxy_server",
        "toxiproxy",
        "proxy",
        "chaos",
        "experiment",
        "rabbitmq_proc",
        "rabbitmq",
        "service",
        "chaos_docker",
    ]
    for name in names:
        assert f"\n{name}" in section, f"{name} not listed"
    assert "no docstring available" not in section
