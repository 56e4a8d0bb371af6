"""A cache of real, valid source code for the syntax benchmarks, fetched from package registries.

Each source is a package fetched with the registry's ordinary client (``pip download``, ``npm pack``,
``apt-get download``) and unpacked under ``.bench-cache/syntax-corpus/<kind>/<name>/``. Nothing is fetched
when the unpacked directory already exists, so a second run is offline.

A source lists the files to check as ``(glob, language)`` pairs: a language of ``None`` means "whatever
``detect_language`` says from the file's name and first line".
"""

from __future__ import annotations

import fnmatch
import gzip
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".bench-cache" / "syntax-corpus"

# Files larger than this are skipped: minified bundles tell us nothing about the grammar that smaller
# files don't, and a 9 MB typescript.js would dominate the run time.
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Source:
    kind: str  # "pypi", "npm" or "deb"
    spec: str  # "django==5.2.19", "react@19.1.0", "ruby-rack"
    files: tuple[tuple[str, str | None], ...] = (("*", None),)
    exclude: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.replace("/", "_").replace("@", "_").replace("=", "_").lstrip("_")


# Test-suite directories of parsers and linters are full of deliberately invalid files: leave them out.
_TESTS = ("*/test/*", "*/tests/*", "*/testdata/*", "*/fixtures/*", "*/testing/*", "*/__tests__/*")

SOURCES: tuple[Source, ...] = (
    # Python (plus Django's HTML templates, JS, CSS and JSON)
    # (its .js templates are Django template syntax, not JavaScript)
    Source("pypi", "django==5.2.19", exclude=("*/tests/*", "*/templates/*.js")),
    # Rust
    # (tests/ui/ holds trybuild's compile-fail cases: invalid on purpose)
    Source(
        "pypi",
        "orjson==3.10.18",
        (("*.rs", "rust"), ("*.toml", None), ("*.c", None), ("*.h", None)),
        ("*/tests/ui/*",),
    ),
    Source("deb", "librust-serde-dev"),
    Source("deb", "librust-regex-dev"),
    Source("deb", "librust-syn-dev"),
    Source("deb", "librust-tokio-dev"),
    Source("deb", "librust-serde-json-dev", exclude=("*/tests/ui/*",)),
    Source("deb", "librust-anyhow-dev"),
    Source("deb", "librust-rand-dev"),
    Source("deb", "librust-proc-macro2-dev"),
    Source("deb", "librust-clap-dev"),
    Source("deb", "librust-serde-derive-dev"),
    Source("deb", "librust-futures-dev"),
    Source("deb", "librust-toml-dev"),
    Source("deb", "librust-log-dev"),
    Source("deb", "librust-libc-dev"),
    # Lua and C (lupa vendors Lua 5.1-5.4 and LuaJIT)
    Source("pypi", "lupa==2.4", exclude=("*/testes/*", "*/test/*")),
    Source("deb", "lua-penlight"),
    Source("deb", "lua-busted"),
    Source("deb", "lua-luassert"),
    Source("deb", "lua-ldoc", exclude=("*/ldoc/builtin/*",)),  # builtin/: doc stubs, not Lua
    Source("deb", "neovim-runtime", (("*.lua", "lua"), ("*.md", None), ("*.json", None))),
    # Java
    Source("pypi", "JPype1==1.5.2"),
    Source("deb", "openjdk-17-source", (("*/java/util/*.java", "java"), ("*/java/lang/*.java", "java"))),
    # C#
    Source("pypi", "pythonnet==3.0.5"),
    # C++
    Source("pypi", "pybind11==2.13.6"),
    Source("deb", "libeigen3-dev", (("*/Eigen/src/Core/*.h", "cpp"), ("*/Eigen/src/Core/*/*.h", "cpp"))),
    Source("deb", "nlohmann-json3-dev", (("*.hpp", "cpp"),)),
    Source("deb", "libfmt-dev", (("*.h", "cpp"),)),
    Source("deb", "libgtest-dev", (("*.cc", "cpp"), ("*.h", "cpp"))),
    # Go
    Source("deb", "golang-github-stretchr-testify-dev"),
    Source("deb", "golang-github-spf13-cobra-dev"),
    Source("deb", "golang-golang-x-text-dev", (("*/x/text/*.go", "go"),)),
    # Ruby
    Source("deb", "ruby-rack"),
    Source("deb", "ruby-i18n"),
    Source("deb", "rake"),
    Source("deb", "ruby-rspec-core"),
    Source("deb", "ruby-activesupport"),
    Source("deb", "ruby-thor"),
    # PHP
    Source("deb", "php-symfony-console"),
    Source("deb", "php-composer-semver"),
    Source("deb", "php-monolog"),
    Source("deb", "php-twig"),
    Source("deb", "php-symfony-http-foundation"),
    Source("deb", "php-guzzlehttp-guzzle"),
    # Bash: completion scripts have no extension
    Source("deb", "bash-completion", (("*/bash-completion/completions/*", "bash"), ("*.sh", "bash"))),
    Source("deb", "devscripts", (("*/usr/bin/*", None), ("*.sh", None))),  # shebang decides (perl: skipped)
    # YAML
    Source("pypi", "ansible-core==2.16.14", (("*.yml", None), ("*.yaml", None)), exclude=_TESTS),
    Source("deb", "ansible", (("*.yml", None), ("*.yaml", None)), exclude=_TESTS),
    # HTML
    Source("deb", "sqlite3-doc", (("*.html", "html"),)),
    Source("deb", "git-doc", (("*.html", "html"),)),
    Source("deb", "nodejs-doc", (("*.html", "html"), ("*.md", None), ("*.json", None))),
    # JavaScript / TypeScript / TSX / CSS / JSON / Markdown from npm
    Source("npm", "react@19.1.0"),
    Source("npm", "lodash@4.17.21"),
    Source("npm", "preact@10.26.9"),
    Source("npm", "typescript@5.8.3", (("*/lib/*.d.ts", "typescript"), ("*.json", None), ("*.md", None))),
    Source("npm", "rxjs@7.8.2", exclude=("*/dist/bundles/*",)),
    Source("npm", "@tanstack/react-query@5.81.5"),
    Source("npm", "@tanstack/query-core@5.81.5"),
    Source("npm", "react-day-picker@9.7.0"),
    Source("npm", "bootstrap@5.3.7"),
    Source("npm", "bulma@1.0.4", (("*.css", "css"), ("*.md", None), ("*.json", None))),
    Source("npm", "normalize.css@8.0.1"),
    Source("npm", "markdown-it@14.1.0", exclude=("*/dist/*",)),
    Source("npm", "eslint@9.30.0", exclude=_TESTS),
    Source("npm", "@docusaurus/theme-classic@3.10.2"),
    Source("npm", "@docusaurus/theme-common@3.10.2"),
    Source("npm", "gatsby@5.16.1"),
    Source("npm", "cldr-dates-modern@45.0.0"),
)


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=900)


def _unpack(archive: Path, dest: Path) -> None:
    if archive.suffix == ".deb":
        _run(["dpkg-deb", "-x", str(archive), str(dest)], cwd=dest)
        for packed in dest.rglob("*.gz"):  # Debian compresses documentation: README.md.gz
            if packed.suffixes[-2:-1] in ([".md"], [".json"], [".html"]) and not packed.is_symlink():
                packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
                packed.unlink()
        for src_zip in dest.rglob("src.zip"):  # openjdk-17-source ships its sources as a zip
            with zipfile.ZipFile(src_zip) as zf:
                zf.extractall(src_zip.parent / "src")
            src_zip.unlink()
    elif archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")


def fetch(source: Source) -> Path | None:
    """Download and unpack one source (once); return its directory, or None when it cannot be fetched."""
    dest = CACHE / source.kind / source.name
    if (dest / ".done").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    download = CACHE / "downloads" / source.kind / source.name
    shutil.rmtree(download, ignore_errors=True)
    download.mkdir(parents=True)
    dest.mkdir(parents=True)
    try:
        if source.kind == "pypi":
            # --no-binary for this package only: its build backend (to read metadata) may come as a wheel.
            name = source.spec.split("==")[0]
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", name]
            _run([*cmd, "-d", str(download), source.spec], cwd=download)
        elif source.kind == "npm":
            _run(["npm", "pack", "--silent", source.spec], cwd=download)
        else:
            _run(["apt-get", "download", "-q", source.spec], cwd=download)
        for archive in download.iterdir():
            _unpack(archive, dest)
    except (subprocess.SubprocessError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        detail = (
            exc.stderr.decode(errors="replace")[-500:]
            if isinstance(exc, subprocess.CalledProcessError)
            else ""
        )
        print(f"  ! could not fetch {source.kind}:{source.spec}: {exc} {detail}", file=sys.stderr)
        shutil.rmtree(dest, ignore_errors=True)
        return None
    finally:
        shutil.rmtree(download, ignore_errors=True)
    (dest / ".done").touch()
    return dest


def files(source: Source, root: Path) -> Iterator[tuple[Path, str | None]]:
    """The files of one fetched source with their language (None: detect from the name)."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.name == ".done":
            continue
        rel = "/" + path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(rel, pat) for pat in source.exclude):
            continue
        for pattern, language in source.files:
            if fnmatch.fnmatch(rel, pattern if pattern.startswith("*") else "*/" + pattern):
                if path.stat().st_size <= MAX_BYTES:
                    yield path, language
                break


def python_files(spec: str = "django==5.2.19") -> list[Path]:
    """All .py files of one PyPI sdist from the cache (fetched if needed); [] when offline."""
    source = next((s for s in SOURCES if s.spec == spec), Source("pypi", spec))
    root = fetch(source)
    return sorted(root.rglob("*.py")) if root else []
