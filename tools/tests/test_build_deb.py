"""Tests of tools/build-deb: the Debian package embedd_VERSION_amd64.deb.

    /usr/bin/python3 -m unittest discover -s tools/tests -p 'test_build_deb.py' -v

Always (tools/test runs it after its release build, which tools/build-deb reuses: nothing is
compiled again): builds the package into a temporary folder and checks it from the outside with
dpkg-deb, readelf, ldd and lintian — the file name and version, every file and its mode, the
plugins without the test fixture, the Swift runtime carried in /usr/lib/embedd/swift and only
the libraries that are needed, RUNPATHs that are $ORIGIN-relative and never the toolchain's,
the programs starting from the unpacked tree, Depends naming the Debian packages of every
library linked and no toolchain, the conffile, the maintainer scripts, and lintian with no error
or warning.

Only under CI=true (a throw-away machine; a newcomer's tools/test never installs packages of
ours): installs it with dpkg -i (apt-get install -f for what it depends on), runs
`embedd --check-config /etc/embedd/embedd.yaml`, starts the installed /usr/bin/embedd on a
private socket and data folder with the installed text plugin and models/all-MiniLM-L6-v2,
embeds a sentence with the installed embedctl, stops it, removes the package and checks that
/var/lib/embedd, the conffile, the HTTP keys and the users survived, purges it (configuration
gone, data kept), and purges again
with EMBEDD_PURGE_DATA=yes and with no data (both delete /var/lib/embedd).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from typing import Dict, List, Optional, Set

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TOOLS)
BUILD_DEB = os.path.join(TOOLS, "build-deb")
MODELS = os.environ.get("EMBEDD_MODELS_DIR") or os.path.join(REPO, "models")
PLUGINS = ["audio", "clip", "image", "text", "video"]
# What the Swift runtime's libraries are called (the toolchain's runtime folder holds only these).
SWIFT_RUNTIME = re.compile(r"^(libswift.*|libdispatch|libBlocksRuntime|lib_FoundationICU|libFoundation.*)\.so$")


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def embedd_version() -> str:
    m = re.search(r'static let string = "([^"]+)"', read(os.path.join(REPO, "Sources/EmbedServer/EmbeddVersion.swift")))
    assert m, "no version in EmbeddVersion.swift"
    return m.group(1)


def run(args: List[str], *, check: bool = True, env: Optional[Dict[str, str]] = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout[-4000:]}{r.stderr[-4000:]}")
    return r


def elf_dynamic(path: str) -> Dict[str, List[str]]:
    """NEEDED, RUNPATH and RPATH entries of an ELF file, by readelf -d."""
    out = run(["readelf", "-d", path]).stdout
    found: Dict[str, List[str]] = {"NEEDED": [], "RUNPATH": [], "RPATH": []}
    for kind, value in re.findall(r"\((NEEDED|RUNPATH|RPATH)\)\s+[^\[]*\[([^\]]*)\]", out):
        found[kind] += value.split(":") if kind != "NEEDED" else [value]
    return found


def is_elf(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


class Package:
    """The package built once for all the tests, unpacked."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="embedd-deb-test-")
        started = time.monotonic()
        r = run([BUILD_DEB, "--out", self.dir], timeout=3600)
        self.build_seconds = time.monotonic() - started
        self.build_stderr = r.stderr
        debs = glob.glob(os.path.join(self.dir, "*.deb"))
        assert len(debs) == 1, f"tools/build-deb made {debs}"
        self.deb = debs[0]
        assert r.stdout.strip().splitlines()[-1] == self.deb, f"build-deb printed {r.stdout!r}, made {self.deb}"
        self.root = os.path.join(self.dir, "root")
        self.control = os.path.join(self.dir, "control")
        run(["dpkg-deb", "-x", self.deb, self.root])
        run(["dpkg-deb", "-e", self.deb, self.control])
        # path → (mode string, owner/group) from the archive's own listing.
        self.listing: Dict[str, tuple] = {}
        for line in run(["dpkg-deb", "-c", self.deb]).stdout.splitlines():
            parts = line.split(None, 5)
            name = parts[5].split(" -> ")[0]
            self.listing[os.path.normpath("/" + name)] = (parts[0], parts[1])
        self.fields: Dict[str, str] = {}
        for line in run(["dpkg-deb", "-f", self.deb]).stdout.splitlines():
            if line and not line.startswith(" "):
                key, _, value = line.partition(":")
                self.fields[key] = value.strip()

    def path(self, installed: str) -> str:
        return os.path.join(self.root, installed.lstrip("/"))

    def elf_files(self) -> List[str]:
        found = []
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                p = os.path.join(dirpath, name)
                if not os.path.islink(p) and is_elf(p):
                    found.append(p)
        return sorted(found)


_package: Optional[Package] = None


def package() -> Package:
    global _package
    if _package is None:
        _package = Package()
    return _package


def tearDownModule() -> None:
    if _package is not None:
        shutil.rmtree(_package.dir, ignore_errors=True)


class BuildDebTests(unittest.TestCase):
    """The .deb as built, checked from the outside (no installation)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.pkg = package()
        print(f"\ntools/build-deb: {os.path.basename(cls.pkg.deb)}, {os.path.getsize(cls.pkg.deb) / 1e6:.1f} MB, "
              f"built in {cls.pkg.build_seconds:.1f} s")

    def test_name_and_control_fields(self) -> None:
        version = embedd_version() + "-1"
        self.assertEqual(os.path.basename(self.pkg.deb), f"embedd_{version}_amd64.deb")
        f = self.pkg.fields
        self.assertEqual(f["Package"], "embedd")
        self.assertEqual(f["Version"], version)
        self.assertEqual(f["Architecture"], "amd64")
        self.assertRegex(f["Maintainer"], r"^[^<>]+ <[^@<>\s]+@[^@<>\s]+>$")
        self.assertGreater(int(f["Installed-Size"]), 1000)
        self.assertIn("Description", f)

    def test_programs_plugins_units_config_docs_completion(self) -> None:
        want = ["/usr/bin/embedd", "/usr/bin/embedctl",
                "/usr/lib/systemd/system/embedd.service", "/usr/lib/systemd/system/embedd.socket",
                "/etc/embedd/embedd.yaml", "/usr/share/bash-completion/completions/embedctl",
                "/usr/share/doc/embedd/copyright", "/usr/share/doc/embedd/changelog.Debian.gz",
                "/usr/share/doc/embedd/changelog.gz", "/usr/share/doc/embedd/README.md",
                "/usr/share/doc/embedd/operations.md", "/usr/share/doc/embedd/packaging.md",
                "/usr/share/man/man1/embedd.1.gz", "/usr/share/man/man1/embedctl.1.gz"]
        want += [f"/usr/lib/embedd/plugins/libembedd-{p}.so" for p in PLUGINS]
        for path in want:
            self.assertIn(path, self.pkg.listing, f"{path} is not in the package")
        for path, (mode, owner) in self.pkg.listing.items():
            self.assertEqual(owner, "root/root", f"{path} belongs to {owner}")
            if mode.startswith("d"):
                self.assertEqual(mode, "drwxr-xr-x", path)
            elif path.startswith("/usr/bin/"):
                self.assertEqual(mode, "-rwxr-xr-x", path)
            else:
                self.assertEqual(mode, "-rw-r--r--", path)
        # Every unit of systemd/, byte for byte; the config and the completion as committed.
        for unit in glob.glob(os.path.join(REPO, "systemd", "*")):
            installed = "/usr/lib/systemd/system/" + os.path.basename(unit)
            self.assertEqual(read(self.pkg.path(installed)), read(unit), installed)
        self.assertEqual(read(self.pkg.path("/etc/embedd/embedd.yaml")), read(os.path.join(REPO, "etc/embedd/embedd.yaml")))
        self.assertEqual(read(self.pkg.path("/usr/share/bash-completion/completions/embedctl")),
                         read(os.path.join(TOOLS, "embedctl.bash-completion")))
        # The units' Documentation= file, readable as it is named.
        for unit in glob.glob(self.pkg.path("/usr/lib/systemd/system/*")):
            for doc in re.findall(r"^Documentation=file:(\S+)", read(unit), re.M):
                self.assertTrue(os.path.isfile(self.pkg.path(doc)), f"{os.path.basename(unit)} documents {doc}, not shipped")
        changelog = run(["zcat", self.pkg.path("/usr/share/doc/embedd/changelog.Debian.gz")]).stdout
        self.assertTrue(changelog.startswith(f"embedd ({self.pkg.fields['Version']}) "), changelog)

    def test_only_the_product_plugins(self) -> None:
        plugins = sorted(os.listdir(self.pkg.path("/usr/lib/embedd/plugins")))
        self.assertEqual(plugins, [f"libembedd-{p}.so" for p in PLUGINS])
        self.assertFalse([p for p in self.pkg.listing if "fixture" in p], "the test fixture plugin is packaged")

    def test_http_gateway_and_mirror_are_packaged_with_their_units(self) -> None:
        for path in ["/usr/bin/embedd-http", "/usr/lib/systemd/system/embedd-http.socket",
                     "/usr/lib/systemd/system/embedd-http.service", "/usr/share/man/man1/embedd-http.1.gz",
                     "/usr/bin/embedd-mirror", "/usr/lib/systemd/system/embedd-mirror@.service",
                     "/usr/share/man/man1/embedd-mirror.1.gz"]:
            self.assertIn(path, self.pkg.listing, f"{path} is not in the package")

    def test_runpath_is_origin_relative_and_never_the_toolchain(self) -> None:
        swift = shutil.which("swift")
        toolchain = os.path.dirname(os.path.dirname(os.path.realpath(swift))) if swift else "/opt/swift/usr"
        expected = {"/usr/bin": "$ORIGIN/../lib/embedd/swift", "/usr/lib/embedd/plugins": "$ORIGIN/../swift",
                    "/usr/lib/embedd/swift": "$ORIGIN"}
        elves = self.pkg.elf_files()
        self.assertGreaterEqual(len(elves), 2 + len(PLUGINS) + 1)
        for elf in elves:
            installed = "/" + os.path.relpath(elf, self.pkg.root)
            dyn = elf_dynamic(elf)
            self.assertEqual(dyn["RPATH"], [], f"{installed} has an RPATH")
            for entry in dyn["RUNPATH"]:
                self.assertNotIn(toolchain, entry, f"{installed}'s RUNPATH names the toolchain")
                self.assertTrue(entry.startswith("$ORIGIN"), f"{installed}'s RUNPATH has {entry}")
            self.assertEqual(dyn["RUNPATH"], [expected[os.path.dirname(installed)]], installed)

    def test_swift_runtime_is_carried_and_only_what_is_needed(self) -> None:
        swift_dir = self.pkg.path("/usr/lib/embedd/swift")
        carried = set(os.listdir(swift_dir))
        self.assertIn("libswiftCore.so", carried)
        # The closure of NEEDED from the programs and plugins through the carried libraries.
        needed: Set[str] = set()
        todo = [e for e in self.pkg.elf_files() if not e.startswith(swift_dir + "/")]
        while todo:
            for name in elf_dynamic(todo.pop())["NEEDED"]:
                if SWIFT_RUNTIME.match(name) and name not in needed:
                    needed.add(name)
                    self.assertIn(name, carried, f"{name} is needed but not carried")
                    todo.append(os.path.join(swift_dir, name))
        self.assertEqual(carried, needed, "carried but not needed: %s" % sorted(carried - needed))

    def test_programs_run_from_the_unpacked_tree_with_its_runtime(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        swift_dir = os.path.realpath(self.pkg.path("/usr/lib/embedd/swift"))
        for elf in self.pkg.elf_files():
            out = run(["ldd", elf], env=env).stdout
            self.assertNotIn("not found", out, f"{elf}:\n{out}")
            for name, path in re.findall(r"^\s*(\S+) => (\S+)", out, re.M):
                if SWIFT_RUNTIME.match(name):
                    self.assertEqual(os.path.dirname(os.path.realpath(path)), swift_dir,
                                     f"{os.path.basename(elf)} loads {name} from {path}")
        version = run([self.pkg.path("/usr/bin/embedd"), "--version"], env=env).stdout
        self.assertTrue(version.startswith(f"embedd {embedd_version()} "), version)
        self.assertIn("Usage: embedctl", run([self.pkg.path("/usr/bin/embedctl"), "--help"], env=env).stdout)

    def test_depends_names_the_linked_debian_libraries_and_no_toolchain(self) -> None:
        depends = self.pkg.fields["Depends"]
        names = {d.strip().split(" ")[0] for d in depends.split(",")}
        self.assertIn("adduser", names)
        self.assertFalse([n for n in names if "swift" in n], depends)
        # Every library a program or plugin links that the package does not carry: its package
        # (dpkg -S of where ldd finds it) is depended on.
        swift_dir = self.pkg.path("/usr/lib/embedd/swift")
        owners: Set[str] = set()
        for elf in self.pkg.elf_files():
            if elf.startswith(swift_dir + "/"):
                continue
            for name in elf_dynamic(elf)["NEEDED"]:
                if SWIFT_RUNTIME.match(name):
                    continue
                # "NAME => PATH (0x…)", or for the dynamic loader "PATH (0x…)".
                path = re.search(r"^\s*(?:%s => )?(\S*%s) \(0x" % (re.escape(name), re.escape(name)),
                                 run(["ldd", elf]).stdout, re.M)
                self.assertIsNotNone(path, f"ldd does not resolve {name} of {elf}")
                owner = run(["dpkg", "-S", path.group(1)], check=False)
                if owner.returncode != 0:  # /lib → /usr/lib (merged /usr): dpkg knows one of them
                    owner = run(["dpkg", "-S", os.path.realpath(path.group(1))])
                owners.add(owner.stdout.split(":")[0])
        self.assertTrue({"libdnnl2", "libyaml-0-2", "libturbojpeg0", "libpng16-16", "libwebp7", "libwebpdemux2",
                         "libavformat59"} <= owners, owners)
        self.assertEqual(owners - names, set(), f"linked but not depended on; Depends: {depends}")

    def test_conffile(self) -> None:
        self.assertEqual(read(os.path.join(self.pkg.control, "conffiles")), "/etc/embedd/embedd.yaml\n")

    def test_maintainer_scripts(self) -> None:
        scripts = {s: read(os.path.join(self.pkg.control, s)) for s in ["postinst", "prerm", "postrm"]}
        units = sorted(os.path.basename(u) for u in glob.glob(os.path.join(REPO, "systemd", "*")))
        for name, text in scripts.items():
            run(["sh", "-n", os.path.join(self.pkg.control, name)])
            self.assertTrue(os.access(os.path.join(self.pkg.control, name), os.X_OK), name)
            self.assertNotIn("#UNITS#", text)
            self.assertIn("set -e", text)
            m = re.search(r'^UNITS="([^"]*)"', text, re.M)
            self.assertIsNotNone(m, name)
            self.assertEqual(sorted(m.group(1).split()), units, f"{name} handles other units than systemd/ holds")
        postinst = scripts["postinst"]
        for line in ["addgroup --system --quiet embedd", "addgroup --system --quiet embedd-admin",
                     "adduser --system --quiet --ingroup embedd --home /var/lib/embedd",
                     "systemctl --system daemon-reload", "deb-systemd-helper update-state"]:
            self.assertIn(line, postinst)
        # The units the service names exist as the postinst makes them.
        service = read(os.path.join(REPO, "systemd", "embedd.service"))
        self.assertIn("User=embedd", service)
        self.assertIn("SupplementaryGroups=embedd-admin", service)
        # Data is deleted only in purge's branch, and there only on request.
        postrm = "\n".join(l for l in scripts["postrm"].splitlines() if not l.lstrip().startswith("#"))
        purge = postrm[postrm.index('if [ "$1" = "purge" ]; then'):]
        before_purge = postrm[:postrm.index('if [ "$1" = "purge" ]; then')]
        self.assertNotIn("/var/lib/embedd", before_purge)
        self.assertNotIn("/var/lib/embedd", "\n".join(l for l in scripts["prerm"].splitlines() if not l.startswith("#")))
        self.assertIn('if [ "${EMBEDD_PURGE_DATA:-}" = "yes" ]; then\n        rm -rf /var/lib/embedd', purge)

    def test_lintian_finds_no_error_or_warning(self) -> None:
        if not shutil.which("lintian"):
            self.fail("lintian is missing: run tools/install-deps")
        r = run(["lintian", "--display-info", self.pkg.deb], check=False)
        tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIPXO]: ", l)]
        bad = [l for l in tags if l[:2] in ("E:", "W:")]
        self.assertEqual(bad, [], "lintian:\n" + "\n".join(bad))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Info tags that stay (each explained in docs/packaging.md).
        explained = {"hardening-no-bindnow", "hardening-no-fortify-functions",
                     "package-supports-alternative-init-but-no-init.d-script", "spelling-error-in-binary"}
        unexplained = sorted({l.split()[2] for l in tags if l.startswith("I:")} - explained)
        self.assertEqual(unexplained, [], "lintian info tags docs/packaging.md does not explain:\n" + r.stdout)


def privileged() -> List[str]:
    return [] if os.geteuid() == 0 else ["sudo", "-n"]


@unittest.skipUnless(os.environ.get("CI") == "true", "installs a system package: only under CI=true")
class InstallDebTests(unittest.TestCase):
    """Under CI=true: the package installed, used, removed and purged on this machine."""

    def setUp(self) -> None:
        self.pkg = package()
        self.sudo = privileged()
        status = run(["dpkg-query", "-W", "-f=${Status}", "embedd"], check=False).stdout
        self.assertNotIn("installed", status.replace("not-installed", ""),
                         "embedd is already installed here: the test installs and purges its own")
        self.assertFalse(os.path.exists("/var/lib/embedd"), "/var/lib/embedd exists: the test would touch its data")
        self.minilm = os.path.realpath(os.path.join(MODELS, "all-MiniLM-L6-v2"))
        self.assertTrue(os.path.isfile(os.path.join(self.minilm, "config.json")),
                        f"{self.minilm} is missing: tools/fetch-models (tools/install-deps) makes it")
        self.tmp = tempfile.mkdtemp(prefix="embedd-deb-ci-", dir="/tmp")
        self.daemon: Optional[subprocess.Popen] = None

    def tearDown(self) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        status = run(["dpkg-query", "-W", "-f=${Status}", "embedd"], check=False).stdout
        if "ok installed" in status or "config-files" in status:
            run(self.sudo + ["env", "EMBEDD_PURGE_DATA=yes", "dpkg", "--purge", "embedd"], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def dpkg_install(self) -> None:
        r = run(self.sudo + ["dpkg", "-i", self.pkg.deb], check=False, timeout=600)
        if r.returncode != 0:  # what it depends on is missing: apt-get brings it and configures embedd
            run(self.sudo + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-f", "-y", "-q"], timeout=1200)
        self.assertEqual(run(["dpkg-query", "-W", "-f=${Status}", "embedd"]).stdout, "install ok installed")

    def embedctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(["/usr/bin/embedctl", "--socket", os.path.join(self.tmp, "embedd.sock"), *args], check=check)

    def test_install_use_remove_purge(self) -> None:
        self.dpkg_install()
        # The users and folders the units need.
        for group in ["embedd", "embedd-admin"]:
            run(["getent", "group", group])
        self.assertIn(":/var/lib/embedd:", run(["getent", "passwd", "embedd"]).stdout)
        st = os.stat("/var/lib/embedd")
        self.assertEqual((oct(st.st_mode & 0o7777), run(["stat", "-c", "%U:%G", "/var/lib/embedd"]).stdout.strip()),
                         ("0o750", "embedd:embedd"))
        check = run(["/usr/bin/embedd", "--check-config", "/etc/embedd/embedd.yaml"])
        self.assertIn("OK", check.stdout)
        # The service user loads the carried runtime (modes), and systemd accepts the installed
        # units as they are (ExecStart's binary exists now).
        if os.geteuid() == 0:
            self.assertIn("embedd ", run(["setpriv", "--reuid=embedd", "--regid=embedd", "--init-groups",
                                          "/usr/bin/embedd", "--version"]).stdout)
        units = sorted(glob.glob("/usr/lib/systemd/system/embedd*"))
        verify = run(["systemd-analyze", "verify", "--man=no", *units], check=False)
        complaints = [l for l in (verify.stdout + verify.stderr).splitlines() if "embedd" in l]
        self.assertEqual((verify.returncode, complaints), (0, []), verify.stdout + verify.stderr)
        # Installing it again (the postinst's upgrade path: configure with the old version) keeps
        # the conffile quietly and the folders as they are.
        run(self.sudo + ["dpkg", "-i", self.pkg.deb])
        self.assertEqual(run(["dpkg-query", "-W", "-f=${Status}", "embedd"]).stdout, "install ok installed")
        core = re.search(r"libswiftCore\.so => (\S+)", run(["ldd", "/usr/bin/embedd"]).stdout)
        self.assertIsNotNone(core, "ldd /usr/bin/embedd names no libswiftCore.so")
        self.assertEqual(os.path.dirname(os.path.realpath(core.group(1))), "/usr/lib/embedd/swift")

        # The installed daemon, plugins and client on a private socket and data folder.
        data = os.path.join(self.tmp, "data")
        os.mkdir(data)
        config = os.path.join(self.tmp, "embedd.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"socket:\n  path: {self.tmp}/embedd.sock\n  mode: \"0600\"\n"
                    f"data_dir: {data}\nplugins_dir: /usr/lib/embedd/plugins\nmodels_dir: {self.tmp}\n"
                    f"models:\n  - name: minilm\n    plugin: text\n    model_dir: {self.minilm}\n    default: true\n")
        log = open(os.path.join(self.tmp, "embedd.log"), "wb")
        self.daemon = subprocess.Popen(["/usr/bin/embedd", "--config", config], stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 120
        while True:
            r = self.embedctl("embed", "A man is eating food.", "--format", "json", check=False)
            if r.returncode == 0:
                break
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                self.fail(f"the installed embedd did not serve: {r.stderr}\n{read(os.path.join(self.tmp, 'embedd.log'))[-4000:]}")
            time.sleep(0.2)
        answer = json.loads(r.stdout)
        self.assertEqual((answer["model"], answer["dim"], len(answer["vectors"])), ("minilm", 384, 1))
        self.assertAlmostEqual(math.sqrt(sum(x * x for x in answer["vectors"][0])), 1.0, places=3)
        # Every installed plugin loads (with its $ORIGIN runtime) from the installed plugins_dir.
        plugins = self.embedctl("plugins", "list").stdout.splitlines()[1:]
        loaded = sorted((l.split()[0], l.split()[3]) for l in plugins if l.strip())
        self.assertEqual(loaded, [(p, f"/usr/lib/embedd/plugins/libembedd-{p}.so") for p in PLUGINS])
        self.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait(60), 0)
        self.daemon = None

        # remove: binaries gone; the conffile, /var/lib/embedd's data, the users stay.
        marker = "/var/lib/embedd/models/kept-by-remove"
        run(self.sudo + ["sh", "-c", f"echo data > {marker}; umask 077; echo key > /etc/embedd/http-keys"])
        run(self.sudo + ["dpkg", "-r", "embedd"])
        self.assertFalse(os.path.exists("/usr/bin/embedd"))
        self.assertTrue(os.path.isfile(marker), "dpkg -r deleted data")
        self.assertTrue(os.path.isfile("/etc/embedd/embedd.yaml"), "dpkg -r deleted the conffile")
        self.assertTrue(os.path.isfile("/etc/embedd/http-keys"), "dpkg -r deleted the HTTP keys")
        run(["getent", "passwd", "embedd"])
        self.assertEqual(run(["dpkg-query", "-W", "-f=${Status}", "embedd"]).stdout, "deinstall ok config-files")

        # purge: the conffile goes; data stays, and the postrm says so.
        r = run(self.sudo + ["dpkg", "--purge", "embedd"])
        self.assertFalse(os.path.exists("/etc/embedd"), "purge left configuration in /etc/embedd")
        self.assertTrue(os.path.isfile(marker), "purge deleted data without EMBEDD_PURGE_DATA=yes")
        self.assertIn("kept /var/lib/embedd", r.stdout + r.stderr)
        run(["getent", "group", "embedd-admin"])

        # purge with EMBEDD_PURGE_DATA=yes deletes the data (an upgrade-style reinstall keeps it).
        self.dpkg_install()
        self.assertTrue(os.path.isfile(marker))
        run(self.sudo + ["env", "EMBEDD_PURGE_DATA=yes", "dpkg", "--purge", "embedd"])
        self.assertFalse(os.path.exists("/var/lib/embedd"))

        # purge of an install that holds no data leaves nothing behind.
        self.dpkg_install()
        run(self.sudo + ["dpkg", "--purge", "embedd"])
        self.assertFalse(os.path.exists("/var/lib/embedd"))


if __name__ == "__main__":
    unittest.main()
