"""The harness does what the kubelet does: volumes, modes, subPath, ownership, env, uid, netns.

These pods are small hand-made specs on purpose: they test the harness, not the product (the
product's pods always come from a fresh render in the other live tests).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
import yaml

from tests.live.harness import (
    APT_INSTALL,
    HostDir,
    NetNS,
    PodRun,
    Rendered,
    expand,
    plain_image,
    profile_slugs,
    require_program,
    require_root,
    user_pod,
)

CM = {"a": "alpha\n", "b": "bravo\n", "c": "charlie\n"}


def mini_render(tmp_path: Path, data: dict[str, str] = CM) -> Rendered:
    folder = tmp_path / "rendered" / "mini"
    folder.mkdir(parents=True)
    (folder / "configmap.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "files", "namespace": "ns"}, "data": data}))
    site = tmp_path / "mini.yaml"
    site.write_text("{}\n")
    return Rendered("mini", folder, site)


def pod(containers, volumes, security=None, init=None):
    spec = {"containers": containers, "volumes": volumes}
    if security is not None:
        spec["securityContext"] = security
    if init:
        spec["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p1", "namespace": "ns", "labels": {"app": "x"}}, "spec": spec}


def sh(script, **extra):
    return {"name": "main", "image": "x", "command": ["/bin/sh", "-c", script], **extra}


def test_configmap_volume_layout_items_modes_and_subpath(tmp_path):
    volumes = [
        {"name": "picked", "configMap": {"name": "files", "defaultMode": 0o640, "items": [
            {"key": "a", "path": "sub/a.txt", "mode": 0o500}, {"key": "b", "path": "b"}]}},
        {"name": "whole", "configMap": {"name": "files"}},
    ]
    mounts = [{"name": "picked", "mountPath": "/etc/picked"},
              {"name": "whole", "mountPath": "/opt/one/b.conf", "subPath": "b"}]
    script = ("stat -L -c '%a %u %g' /etc/picked/sub/a.txt /etc/picked/b /opt/one/b.conf; "
              "cat /opt/one/b.conf; ls -A /etc/picked")
    with PodRun(pod([sh(script, volumeMounts=mounts)], volumes,
                    {"runAsUser": 4321, "runAsGroup": 4321}),
                mini_render(tmp_path), tmp_path / "pod") as run:
        host = run.volume_path("picked")
        entries = sorted(p.name for p in host.iterdir())
        ts = [e for e in entries if re.fullmatch(r"\.\.\d{4}(_\d\d){5}\.\w+", e)]
        assert len(ts) == 1 and entries == sorted([*ts, "..data", "b", "sub"])
        assert (host / "..data").readlink() == Path(ts[0])
        assert (host / "sub").readlink() == Path("..data/sub")
        assert stat.S_IMODE((host / ts[0]).stat().st_mode) == 0o755
        result = run.run("main")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[:3] == ["500 0 0", "640 0 0", "644 0 0"]  # item mode, defaultMode, default 0644
    assert lines[3] == "bravo"
    assert sorted(lines[4:]) == sorted([*ts, "..data", "b", "sub"])  # c is not projected


def test_fs_group_owns_configmap_emptydir_and_claims_not_hostpath(tmp_path):
    volumes = [{"name": "cm", "configMap": {"name": "files", "items": [{"key": "a", "path": "a",
                                                                         "mode": 0o400}]}},
               {"name": "scratchy", "emptyDir": {}},
               {"name": "host", "hostPath": {"path": "/data/host", "type": "Directory"}},
               {"name": "mine", "hostPath": {"path": "/data/mine", "type": "Directory"}}]
    mounts = [{"name": "cm", "mountPath": "/cfg"}, {"name": "scratchy", "mountPath": "/scratchy"},
              {"name": "host", "mountPath": "/host"}, {"name": "mine", "mountPath": "/mine"}]
    script = ("id -u; id -G; stat -L -c '%a %g' /cfg/a /scratchy; cat /cfg/a; "
              "echo x > /scratchy/f && stat -c '%u %g' /scratchy/f; "
              "ls -A /host | wc -l; touch /host/f 2>/dev/null && echo host-writable; "
              "touch /mine/f && echo mine-writable")
    with PodRun(pod([sh(script, volumeMounts=mounts)], volumes,
                    {"runAsUser": 1234, "fsGroup": 2000, "supplementalGroups": [3000]}),
                mini_render(tmp_path), tmp_path / "pod",
                host_dirs={"/data/mine": HostDir(uid=1234, gid=1234, mode=0o700)}) as run:
        result = run.run("main")
        assert stat.S_IMODE(run.volume_path("host").stat().st_mode) == 0o755
        assert run.volume_path("host").stat().st_uid == 0
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "1234"
    assert set(lines[1].split()) == {"0", "2000", "3000"}  # gid 0 (no runAsGroup), fsGroup, sup.
    assert lines[2] == "440 2000"  # 0400 + group read from fsGroup ownership
    assert lines[3] == "2777 2000"  # emptyDir: 0777, setgid, fsGroup
    assert lines[4] == "alpha"
    assert lines[5] == "1234 2000"  # new files inherit the fsGroup through setgid
    assert lines[6] == "0"  # hostPath exists and is empty
    assert lines[7:] == ["mine-writable"]  # root-owned 0755 hostPath is not writable


def test_configmap_update_swaps_data_atomically_and_subpath_keeps_old_file(tmp_path):
    volumes = [{"name": "cm", "configMap": {"name": "files"}}]
    mounts = [{"name": "cm", "mountPath": "/cfg"},
              {"name": "cm", "mountPath": "/single/a", "subPath": "a"}]
    # Read /cfg/a and /cfg/b back to back, many times: every read must be a complete version.
    reader = ("i=0; while [ $i -lt 4000 ]; do a=$(cat /cfg/a 2>&1); echo \"$a\"; "
              "i=$((i+1)); done > /tmp/reads; echo done")
    with PodRun(pod([sh("sleep 60", volumeMounts=mounts)], volumes, {"runAsUser": 1000}),
                mini_render(tmp_path), tmp_path / "pod") as run:
        run.start("main")
        proc = run.start("main", ["/bin/sh", "-c", reader])
        versions = ["alpha"]
        n = 0
        while proc.poll() is None and n < 200:
            n += 1
            versions.append(f"v{n}")
            run.update_configmap("files", {"a": f"v{n}\n", "d": "delta\n"})
        assert proc.wait(timeout=60) == 0, proc.output()
        reads = run.exec("main", ["cat", "/tmp/reads"]).stdout.splitlines()
        host = run.volume_path("cm")
        ts = [p.name for p in host.iterdir() if p.name.startswith("..2")]
        final = run.exec("main", ["/bin/sh", "-c", "cat /cfg/a /single/a; ls /cfg"]).stdout
    assert n > 5, "the reader ended before the updates overlapped it"
    assert len(reads) == 4000
    assert set(reads) <= set(versions), sorted(set(reads) - set(versions))[:5]
    assert len(set(reads)) > 2, "no update was seen while reading"
    assert len(ts) == 1, ts  # the old timestamp folders are gone
    assert final.split() == [f"v{n}", "alpha", "a", "d"]  # b removed, d added; subPath is old


def test_env_argv_expansion_identity_and_working_dir(tmp_path):
    container = {
        "name": "main",
        "image": "x",
        "workingDir": "/work-here",
        "command": ["/bin/sh", "-c", 'echo "$0|$1|$(pwd)|$(id -u):$(id -g)"; env | sort'],
        "args": ["$(GREETING)-$(UNDEFINED)", "$$(GREETING)"],
        "env": [
            {"name": "WHO", "value": "pod"},
            {"name": "GREETING", "value": "hello-$(WHO)"},
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "files", "key": "b"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        ],
        "securityContext": {"runAsUser": 2222, "runAsGroup": 3333},
        "volumeMounts": [{"name": "w", "mountPath": "/work-here"}],
    }
    spec = pod([container], [{"name": "w", "emptyDir": {}}], {"runAsUser": 1, "runAsGroup": 1})
    image = plain_image(env={"IMAGE_ONLY": "yes", "WHO": "image"})
    with PodRun(spec, mini_render(tmp_path), tmp_path / "pod", image=image) as run:
        result = run.run("main")
    assert result.returncode == 0, result.stdout
    first, *env_lines = result.stdout.splitlines()
    assert first == "hello-pod-$(UNDEFINED)|$(GREETING)|/work-here|2222:3333"
    env = dict(line.split("=", 1) for line in env_lines if "=" in line)
    assert env["FROM_CM"] == "bravo\n".strip() or env["FROM_CM"] == "bravo"
    assert (env["POD_NAME"], env["APP"], env["IMAGE_ONLY"], env["WHO"]) == ("p1", "x", "yes", "pod")
    assert env["HOME"] == "/" and env["HOSTNAME"] == "p1"
    assert expand("$(A)$$(A)$(B)", {"A": "1"}) == "1$(A)$(B)"


def test_exec_joins_the_running_container_and_stop_ends_detached_processes(tmp_path):
    spec = pod([sh("echo started > /tmp/m; mv /tmp/m /tmp/mark; sleep 60")], [])
    with PodRun(spec, mini_render(tmp_path), tmp_path / "pod") as run:
        main = run.start("main")
        hook = run.exec(
            "main",
            [
                "/bin/sh",
                "-c",
                "while [ ! -e /tmp/mark ]; do sleep 0.05; done; cat /tmp/mark; "
                "(sleep 300 &) ; ls /proc | grep -c '^[0-9]'",
            ],
        )
        assert hook.returncode == 0, hook.stdout
        marker, count = hook.stdout.split()
        assert marker == "started" and int(count) >= 4  # init, sleep infinity, main, ... own pid ns
        detached = run.exec("main", ["/bin/sh", "-c", "pgrep -x sleep | wc -l"]).stdout.strip()
        assert int(detached) >= 3  # sandbox's sleep, main's sleep 60, the detached sleep 300
        run.stop("main")
        assert main.wait(timeout=10) != 0


def test_run_as_non_root_with_uid_0_is_refused(tmp_path):
    spec = pod([sh("true", securityContext={"runAsNonRoot": True})], [])
    with PodRun(spec, mini_render(tmp_path), tmp_path / "pod") as run:
        with pytest.raises(AssertionError, match="runAsNonRoot"):
            run.run("main")


def test_read_only_root_filesystem_and_writable_tmp(tmp_path):
    ro = sh(
        "touch /tmp/x 2>/dev/null && echo tmp-ok; touch /x 2>/dev/null && echo root-ok; echo end",
        securityContext={"readOnlyRootFilesystem": True, "runAsUser": 0},
    )
    rw = dict(sh("touch /tmp/x && echo tmp-ok"), name="rw")
    with PodRun(pod([ro, rw], []), mini_render(tmp_path), tmp_path / "pod") as run:
        assert run.run("main").stdout.split() == ["end"]
        assert run.run("rw").stdout.split() == ["tmp-ok"]


def test_init_containers_run_in_order_before_the_main_container(tmp_path):
    init = [
        {
            "name": "first",
            "image": "x",
            "command": ["/bin/sh", "-c", "echo 1 >> /shared/log"],
            "volumeMounts": [{"name": "s", "mountPath": "/shared"}],
        },
        {
            "name": "second",
            "image": "x",
            "command": ["/bin/sh", "-c", "echo 2 >> /shared/log"],
            "volumeMounts": [{"name": "s", "mountPath": "/shared"}],
        },
    ]
    main = sh("cat /shared/log", volumeMounts=[{"name": "s", "mountPath": "/shared"}])
    with PodRun(
        pod([main], [{"name": "s", "emptyDir": {}}], init=init),
        mini_render(tmp_path),
        tmp_path / "pod",
    ) as run:
        assert len(run.run_init_containers()) == 2
        assert run.run("main").stdout.split() == ["1", "2"]


def test_each_pod_has_its_own_network_namespace(tmp_path):
    server = {
        "name": "main",
        "image": "x",
        "command": ["python3", "-m", "http.server", "--bind", "127.0.0.1", "1094"],
        "securityContext": {"runAsUser": 1000},
    }
    with (
        NetNS() as shared,
        PodRun(pod([server], []), mini_render(tmp_path / "a"), tmp_path / "a" / "pod") as a,
        PodRun(
            pod([server], []), mini_render(tmp_path / "b"), tmp_path / "b" / "pod", netns=shared
        ) as b,
    ):
        pa, pb = a.start("main"), b.start("main")
        a.netns.wait_port(1094, proc=pa)
        b.netns.wait_port(1094, proc=pb)  # same port, both bound: the namespaces are private
        got = shared.run(
            [
                "python3",
                "-c",
                "import urllib.request as u;print(u.urlopen('http://127.0.0.1:1094/').status)",
            ]
        )
        assert got.stdout.strip() == "200", got.stderr


def test_the_rendered_escape_user_pod_is_set_up_as_the_kubelet_would(rendered_sites, tmp_path):
    rendered = rendered_sites["escape"]
    assert profile_slugs(rendered)[0] is None and len(profile_slugs(rendered)) > 1
    spec = user_pod(rendered)
    (notebook,) = [c for c in spec["spec"]["containers"] if c["name"] == "notebook"]
    subpaths = {m["mountPath"]: m for m in notebook["volumeMounts"] if m.get("subPath")}
    assert subpaths, "the escape pod mounts its files with subPath"
    with PodRun(spec, rendered, tmp_path / "pod") as run:
        uid = run.identity("notebook")[0]
        assert uid == spec["spec"]["containers"][0]["securityContext"]["runAsUser"]
        listing = run.run("notebook", ["stat", "-L", "-c", "%n %a", *sorted(subpaths)])
    assert listing.returncode == 0, listing.stdout
    modes = dict(line.rsplit(" ", 1) for line in listing.stdout.splitlines())
    volumes = {v["name"]: v for v in spec["spec"]["volumes"]}
    for path, mount in subpaths.items():
        items = volumes[mount["name"]].get("configMap", {}).get("items") or []
        wanted = {i["path"]: i.get("mode") for i in items}.get(mount["subPath"])
        if wanted is not None:
            fs_group = spec["spec"]["securityContext"].get("fsGroup")
            expect = wanted | 0o440 if fs_group is not None else wanted
            assert int(modes[path], 8) == expect, path


def test_missing_root_or_program_fails_with_the_fix(monkeypatch):
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y xrootd-server"):
        require_program("no-such-program-dlaas", "xrootd-server")
    assert "bubblewrap" in APT_INSTALL
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception, match="needs root"):
        require_root()
