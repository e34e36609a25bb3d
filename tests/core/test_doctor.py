"""Doctor's rules on given facts (the machine probes are covered by the CLI test)."""

from __future__ import annotations

from graftwork.core.doctor import GIB, MachineFacts, checks


def _by_name(facts: MachineFacts) -> dict[str, tuple[str, str, str]]:
    return {c.name: (c.status, c.detail, c.hint) for c in checks(facts)}


def test_a_ready_mac() -> None:
    facts = MachineFacts(
        system="Darwin",
        machine="arm64",
        python="3.11.9",
        mlx_version="0.32.4",
        mlx_lm_version="0.32.2",
        backend="metal",
        memory_bytes=64 * GIB,
        model="/m",
        model_kind="local",
        model_detail="local folder",
        toolkit_dir="/tk",
        toolkit_found=True,
        token_counts_exact=True,
        token_counts_detail="Apple's toolkit tokenizer /tk/assets/tokenizer.model",
        teacher_url="http://127.0.0.1:1234/v1",
        teacher_reachable=True,
        teacher_detail="HTTP 200",
    )
    got = _by_name(facts)
    assert {name: v[0] for name, v in got.items()} == {
        "platform": "info",
        "mlx": "ok",
        "memory": "ok",
        "model": "ok",
        "apple toolkit": "ok",
        "token counts": "ok",
        "tamm": "info",
        "teacher": "ok",
    }
    assert "skipped" in got["tamm"][1]  # tamm not installed: the reference check is skipped
    assert "Metal" in got["mlx"][1] and got["memory"][1] == "64.0 GiB"


def test_problems_come_with_hints() -> None:
    facts = MachineFacts(
        system="Linux",
        machine="x86_64",
        python="3.11.7",
        backend=None,
        backend_error="ImportError: libmlx.so",
        memory_bytes=8 * GIB,
        model_kind="unset",
        teacher_url="http://x/v1",
        teacher_reachable=False,
        teacher_detail="ConnectError",
        config_errors=["graftwork.yaml: unknown key 'trian'"],
    )
    got = _by_name(facts)
    assert (
        got["mlx"][0] == "missing" and "libmlx.so" in got["mlx"][1] and "mlx[cpu]" in got["mlx"][2]
    )
    assert got["memory"][0] == "warn" and got["memory"][2]
    assert got["model"][0] == "missing" and "train.model" in got["model"][2]
    assert got["apple toolkit"][0] == "missing" and "toolkit_dir" in got["apple toolkit"][2]
    assert got["teacher"][0] == "missing" and "ConnectError" in got["teacher"][1]
    assert got["token counts"][0] == "warn" and "approximate" in got["token counts"][1]
    assert "train.apple.toolkit_dir" in got["token counts"][2]
    assert got["config"] == (
        "warn",
        "graftwork.yaml: unknown key 'trian'",
        "fix the file named in the message",
    )


def test_linux_cpu_mentions_openblas() -> None:
    base = dict(
        system="Linux", machine="x86_64", python="3.11", backend="cpu", mlx_version="0.32.4"
    )
    without = _by_name(MachineFacts(**base))
    assert without["cpu blas"][0] == "warn" and "libopenblas0-pthread" in without["cpu blas"][2]
    with_blas = _by_name(MachineFacts(**base, openblas_path="/usr/lib/libopenblas.so.0"))
    assert with_blas["cpu blas"][0] == "ok" and "preloaded" in with_blas["cpu blas"][1]
    assert with_blas["mlx"][0] == "warn" and "CPU" in with_blas["mlx"][1]
