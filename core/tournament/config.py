"""Tournament config: TOML in, validated dataclasses out.

Validation happens before anything runs. Every problem is a `ConfigError` whose message
is one line naming the key (as a dotted path, e.g. ``defenders[2].command``) and the
problem, so the CLI can print it and exit with code 2.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shlex
import shutil
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from core.evaluation.settings import EvaluationSettings, JudgeSpec, RoutingSettings

KINDS = ("practice", "official")
SEVERITIES = ("low", "medium", "high")
AGGREGATIONS = ("majority", "dawid-skene")
# How team bots (command, python) are isolated (docs/config.md#isolation).
ISOLATIONS = ("auto", "required", "off")


# Longest tournament name; a bot name is at most BOT_NAME_MAX characters.
NAME_MAX = 100
BOT_NAME_MAX = 64


def name_problem(value: str, max_len: int) -> str | None:
    """Why `value` cannot name a tournament or a bot, or None.

    Names become folder names (``<store>.logs/<tournament>/<bot>.log``) and appear on
    screen, so they are hostile input: 1-`max_len` characters, not blank, not ``.`` or
    ``..``, no slash, backslash or control character (newline, escape, ...), and valid
    Unicode (bytes that were not UTF-8 on a command line arrive as lone surrogates).
    """
    bad = any(c in "/\\" or unicodedata.category(c) in ("Cc", "Cs") for c in value)
    if not value.strip() or len(value) > max_len or value in (".", "..") or bad:
        return (f"must be 1-{max_len} characters of valid text, not . or .., without slashes or control "
                f"characters; got {value!r}")
    return None


class ConfigError(ValueError):
    """A config problem, phrased as one line: ``<key>: <problem>``."""

    def __init__(self, key: str, problem: str, source: Path | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one bot process (0 disables a limit)."""

    memory_mb: int = 2048
    cpu_seconds: int = 3600
    file_mb: int = 64
    max_reply_bytes: int = 1 << 20
    log_mb: int = 10
    max_restarts: int = 3
    # Isolation (docs/config.md#isolation): enforced when the bot runs in the sandbox.
    processes: int = 256
    open_files: int = 1024
    tmp_mb: int = 64


@dataclass(frozen=True)
class HttpSpec:
    """An OpenAI-compatible chat-completions endpoint."""

    url: str
    model: str
    system_prompt: str = ""
    api_key_env: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    opening_prompt: str = "Start the conversation."
    end_marker: str = "<END>"


@dataclass(frozen=True)
class BotSpec:
    """One bot as configured: a name, a side and exactly one way to run it."""

    name: str
    side: str
    kind: str  # "command" | "python" | "http"
    command: tuple[str, ...] = ()
    python: str = ""
    http: HttpSpec | None = None
    instances: int = 1
    env: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    workdir: Path = Path(".")
    # Isolation: "auto", "required" or "off"; the model servers the bot may reach,
    # as (host, port); its own folder when set in the config (else found from its files).
    isolation: str = "auto"
    network: tuple[tuple[str, int], ...] = ()
    folder: Path | None = None

    def describe(self) -> str:
        """A short human description of how the bot runs (for tables and logs)."""
        if self.kind == "command":
            return shlex.join(self.command)
        if self.kind == "python":
            return self.python
        assert self.http is not None
        return f"{self.http.url} ({self.http.model})"



@dataclass(frozen=True)
class UtilityConfig:
    """The utility test sets and the base model bot that normalises utility."""

    sets: tuple[Path, ...] = ()
    base: BotSpec | None = None
    timeout: float = 45.0


@dataclass(frozen=True)
class TournamentConfig:
    """A whole validated tournament config."""

    name: str
    kind: str
    conversations_per_matchup: int
    max_pairs: int
    seed: int
    concurrency: int
    timeout: float
    attackers: tuple[BotSpec, ...]
    defenders: tuple[BotSpec, ...]
    limits: Limits
    evaluation: EvaluationSettings
    utility: UtilityConfig
    source: Path | None = None
    isolation: str = "auto"

    @property
    def bots(self) -> tuple[BotSpec, ...]:
        """Attackers then defenders."""
        return self.attackers + self.defenders

    def with_overrides(self, **changes: Any) -> TournamentConfig:
        """A copy with some top-level values replaced (e.g. from CLI flags); a new `name`
        is checked like the config's own (`ConfigError` with key ``name``)."""
        if "name" in changes:
            problem = name_problem(changes["name"], NAME_MAX)
            if problem:
                raise ConfigError("name", problem)
        return replace(self, **changes)

    def fingerprint(self) -> str:
        """A hash of everything that decides the transcripts (not concurrency, not timeouts).

        A resumed run must use the same fingerprint as the run it continues.
        """
        data = {
            "name": self.name,
            "conversations_per_matchup": self.conversations_per_matchup,
            "max_pairs": self.max_pairs,
            "seed": self.seed,
            "attackers": [(b.name, b.describe()) for b in self.attackers],
            "defenders": [(b.name, b.describe()) for b in self.defenders],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --- validation helpers -------------------------------------------------------------


class _Reader:
    """Reads one TOML table, checking types and refusing unknown keys."""

    def __init__(self, table: Any, path: str, source: Path | None) -> None:
        self.path = path
        self.source = source
        if not isinstance(table, dict):
            raise self.error("", f"must be a table, not {_type_name(table)}")
        self.table = table
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> ConfigError:
        key = self.key(name) if name else (self.path or "<top level>")
        return ConfigError(key, problem, self.source)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ..., *, what: str = "") -> Any:
        self.seen.add(name)
        if name not in self.table:
            if default is ...:
                raise self.error(name, "is required")
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML ints are acceptable where floats are asked for; bools are never ints here.
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(name, f"must be {what or _kinds_name(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise self.error(name, f"must be {what or _kinds_name(kinds)}, not {_type_name(value)}")
        return value

    def name(self, key: str, max_len: int) -> str:
        """A name used in paths and on screen (see `name_problem`)."""
        value = self.get(key, str)
        problem = name_problem(value, max_len)
        if problem:
            raise self.error(key, problem)
        return value

    def positive(self, key: str, default: float) -> float:
        """A number above zero (seconds)."""
        value = self.get(key, float, default)
        if value <= 0:
            raise self.error(key, f"must be positive; got {value}")
        return value

    def int_at_least(self, name: str, minimum: int, default: Any = ...) -> int:
        value = self.get(name, int, default)
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(name, str, default)
        if value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def str_list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(name, list, list(default), what="a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{name}[{i}]", "must be a non-empty string")
            # Labels, tags and annotator names reach screens, files and key bindings.
            if any(unicodedata.category(c) in ("Cc", "Cs") for c in item):
                raise self.error(f"{name}[{i}]", f"must be valid text without control characters; got {item!r}")
        return tuple(value)

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise self.error(unknown[0], "unknown key")


_TYPE_NAMES = {dict: "a table", list: "a list", str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _kinds_name(kinds: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _limits(reader: _Reader, base: Limits) -> Limits:
    values = {}
    for f in fields(Limits):
        minimum = 1 if f.name == "max_reply_bytes" else 0
        values[f.name] = reader.int_at_least(f.name, minimum, getattr(base, f.name))
    return Limits(**values)


def _parse_http(value: Any, path: str, source: Path | None) -> HttpSpec:
    reader = _Reader(value, path, source)
    url = reader.get("url", str)
    if not url.startswith(("http://", "https://")):
        raise reader.error("url", f"must start with http:// or https://; got {url!r}")
    spec = HttpSpec(
        url=url.rstrip("/"),
        model=reader.get("model", str),
        system_prompt=reader.get("system_prompt", str, ""),
        api_key_env=reader.get("api_key_env", str, None),
        temperature=reader.get("temperature", float, None),
        max_tokens=reader.get("max_tokens", int, None),
        opening_prompt=reader.get("opening_prompt", str, HttpSpec.opening_prompt),
        end_marker=reader.get("end_marker", str, HttpSpec.end_marker),
    )
    reader.finish()
    return spec


def _check_python_spec(spec: str, key: str, base_dir: Path, env: dict[str, str], source: Path | None,
                       method: str = "respond") -> None:
    """`file.py:Class` or `module:Class`: the file (or module) must exist and bind `Class`.

    Team code is untrusted and never runs here: the file is only parsed (`ast`), and a
    module is only located (`importlib.machinery.PathFinder`, which imports nothing), on
    the path the bot host will have: the config's folder, the bot's PYTHONPATH, then this
    interpreter's path.
    """
    target, sep, cls = spec.rpartition(":")
    if not sep or not target or not cls.isidentifier():
        raise ConfigError(key, f"must look like 'path/to/file.py:ClassName' or 'module:ClassName'; got {spec!r}", source)
    if target.endswith(".py"):
        path: Path | None = Path(target) if Path(target).is_absolute() else base_dir / target
        if not path.is_file():
            raise ConfigError(key, f"file not found: {target}", source)
    else:
        pythonpath = [str(base_dir / p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        found, path = _module_source(target, [str(base_dir), *pythonpath, *(p for p in sys.path if p)])
        if not found:
            raise ConfigError(key, f"module {target!r} not found next to the config or on the Python path", source)
    if path is None:
        return  # a built-in, frozen or compiled module: nothing to parse
    problem = _class_problem(path, cls, method)
    if problem:
        raise ConfigError(key, f"{target} {problem}", source)


def _module_source(module: str, search: list[str]) -> tuple[bool, Path | None]:
    """(found, source file) of `module` (a package's ``__init__.py``), located without
    importing anything; the file is None for a module with no Python source."""
    if module in sys.builtin_module_names:
        return True, None
    paths: list[str] = search
    spec = None
    parts = module.split(".")
    for depth in range(len(parts)):
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: depth + 1]), paths)
        if spec is None:
            return False, None
        paths = list(spec.submodule_search_locations or [])
    origin = spec.origin if spec is not None else None
    return True, Path(origin) if origin and origin.endswith(".py") else None


def _class_problem(path: Path, cls: str, method: str = "respond") -> str | None:
    """Why the Python file at `path` cannot provide the class `cls` (a plain class must
    define `method`: ``respond`` for a bot, ``judge`` for a judge), or None."""
    try:
        stat = path.stat()
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    names = _module_names(path, stat.st_mtime_ns, stat.st_size)
    if isinstance(names, str):
        return names
    node = names.classes.get(cls)
    if node is not None:
        plain = all(isinstance(b, ast.Name) and b.id == "object" for b in node.bases) and not node.keywords
        defined = {n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        defined |= {t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        if plain and method not in defined:
            return f"class {cls} has no {method}() method"
        return None
    if cls in names.bound or names.dynamic:
        return None
    public = [name for name in names.classes if not name.startswith("_")]
    listed = f" (classes: {', '.join(public)})" if public else ""
    return f"defines no class {cls}{listed}"


@functools.lru_cache(maxsize=16)  # several bots of a config share one file
def _module_names(path: Path, _mtime_ns: int, _size: int) -> _ModuleNames | str:
    """The top-level names of the Python file at `path`, or why it cannot be parsed."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        return f"cannot be parsed: {exc.msg} (line {exc.lineno})"
    except (OSError, ValueError) as exc:
        return f"cannot be read: {exc}"
    names = _ModuleNames()
    names.visit(tree)
    return names


class _ModuleNames(ast.NodeVisitor):
    """The names a module binds at its top level, without running it. `dynamic` when it
    may bind names this cannot see (``from x import *``, a module ``__getattr__``,
    ``globals()``/``exec``)."""

    def __init__(self) -> None:
        self.classes: dict[str, ast.ClassDef] = {}
        self.bound: set[str] = set()
        self.dynamic = False

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # its body is its own scope
        self.classes[node.name] = node
        self.bound.add(node.name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.bound.add(node.name)
        self.dynamic |= node.name == "__getattr__"

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.bound.add(node.id)
        elif node.id in ("globals", "exec", "vars", "setattr"):
            self.dynamic = True

    def visit_Import(self, node: ast.Import) -> None:
        self.bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.dynamic = True
            self.bound.add(alias.asname or alias.name)


def _check_command(command: tuple[str, ...], key: str, base_dir: Path, source: Path | None) -> None:
    program = command[0]
    if "/" in program:
        path = Path(program)
        if not path.is_absolute():
            path = base_dir / path
        if not path.exists():
            raise ConfigError(key, f"program not found: {program}", source)
    elif shutil.which(program) is None:
        raise ConfigError(key, f"program not found on PATH: {program}", source)
    # Script arguments that look like relative files next to the config must exist, so
    # a typo in `["python3", "bots/mybot.py"]` is caught before anything runs.
    for arg in command[1:]:
        if arg.endswith((".py", ".js", ".sh", ".rb", ".pl")) and not arg.startswith("-"):
            path = Path(arg) if Path(arg).is_absolute() else base_dir / arg
            if not path.exists():
                raise ConfigError(key, f"file not found: {arg}", source)


def _parse_network(reader: _Reader, kind: str) -> tuple[tuple[str, int], ...]:
    """The bot's allow-list of model servers: ``["127.0.0.1:8000", ...]``."""
    entries = reader.str_list("network")
    if entries and kind == "http":
        raise reader.error("network", "applies to command and python bots; the arena itself calls an http bot")
    found: list[tuple[str, int]] = []
    for i, entry in enumerate(entries):
        host, sep, port = entry.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in host):
            raise reader.error(f"network[{i}]", f"must be host:port, e.g. 127.0.0.1:8000; got {entry!r}")
        if any(int(port) == p for _, p in found):
            raise reader.error(f"network[{i}]", f"port {port} is already allowed (inside the sandbox every server is 127.0.0.1:port)")
        found.append((host, int(port)))
    return tuple(found)


def parse_bot(value: Any, path: str, side: str, base_dir: Path, default_limits: Limits, source: Path | None,
              isolation: str = "auto") -> BotSpec:
    """Validate one bot table (``[[attackers]]``/``[[defenders]]`` entry, or the utility base)."""
    reader = _Reader(value, path, source)
    name = reader.name("name", BOT_NAME_MAX)
    ways = [k for k in ("command", "python", "http") if k in reader.table]
    if len(ways) != 1:
        problem = "none" if not ways else " and ".join(ways)
        raise reader.error("", f"needs exactly one of command, python, http (has {problem})")
    kind = ways[0]
    command: tuple[str, ...] = ()
    python = ""
    http = None
    if kind == "command":
        raw = reader.get("command", (str, list), what="a string or a list of strings")
        if isinstance(raw, str):
            try:
                raw = shlex.split(raw)
            except ValueError as exc:
                raise reader.error("command", f"cannot be split into words: {exc}") from None
        if not raw or not all(isinstance(a, str) and a for a in raw):
            raise reader.error("command", "must be a non-empty list of non-empty strings")
        command = tuple(raw)
        _check_command(command, reader.key("command"), base_dir, source)
    elif kind == "python":
        python = reader.get("python", str)  # checked below, with the bot's env
    else:
        http = _parse_http(reader.get("http", dict), reader.key("http"), source)
    instances = reader.int_at_least("instances", 1, 1)
    env = reader.get("env", dict, {})
    for k, v in env.items():
        if not isinstance(v, str):
            raise reader.error(f"env.{k}", f"must be a string, not {_type_name(v)}")
    if kind == "python":
        _check_python_spec(python, reader.key("python"), base_dir, env, source)
    limit_values = {f.name: reader.table[f.name] for f in fields(Limits) if f.name in reader.table}
    limits = _limits(_Reader(limit_values, path, source), default_limits)
    reader.seen.update(limit_values)
    isolation = reader.choice("isolation", ISOLATIONS, isolation)
    network = _parse_network(reader, kind)
    folder = None
    if "folder" in reader.table:
        folder = base_dir / reader.get("folder", str)
        if not folder.is_dir():
            raise reader.error("folder", f"folder not found: {reader.table['folder']}")
        folder = folder.resolve()
    reader.finish()
    return BotSpec(
        name=name,
        side=side,
        kind=kind,
        command=command,
        python=python,
        http=http,
        instances=instances,
        env=dict(env),
        limits=limits,
        workdir=base_dir,
        isolation=isolation,
        network=network,
        folder=folder,
    )


def _parse_evaluation(value: Any, base_dir: Path, source: Path | None) -> EvaluationSettings:
    reader = _Reader(value, "evaluation", source)
    default = EvaluationSettings()
    labels = reader.str_list("labels", default.labels)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise reader.error("labels", "must list at least two distinct labels")
    annotators = reader.str_list("annotators", default.annotators)
    if len(set(annotators)) != len(annotators):
        raise reader.error("annotators", "has a duplicate name")
    k = reader.int_at_least("annotators_per_item", 1, default.annotators_per_item)
    if annotators and k > len(annotators):
        raise reader.error("annotators_per_item", f"is {k} but only {len(annotators)} annotators are listed")
    fraction = reader.get("audit_fraction", float, default.audit_fraction)
    if not 0.0 <= fraction <= 1.0:
        raise reader.error("audit_fraction", f"must be between 0 and 1; got {fraction}")
    guidelines = reader.get("guidelines", str, None)
    text = None
    if guidelines is not None:
        # The text is kept with the tournament (annotators and packs need no config).
        guidelines_path = base_dir / guidelines
        if not guidelines_path.is_file():
            raise reader.error("guidelines", f"file not found: {guidelines}")
        try:
            text = guidelines_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise reader.error("guidelines", f"cannot read {guidelines}: {exc.strerror}") from None
    judges = _parse_judges(reader, base_dir, source)
    routing = _parse_routing(reader, judges, source)
    adaptive = reader.get("adaptive", bool, False)
    posterior = reader.get("adaptive_posterior", float, None)
    if posterior is not None and not 0.5 <= posterior <= 1.0:
        raise reader.error("adaptive_posterior", f"must be between 0.5 and 1; got {posterior}")
    result = EvaluationSettings(
        severity=reader.choice("severity", SEVERITIES, default.severity),
        confidence=reader.choice("confidence", SEVERITIES, default.confidence),
        skip_tests=reader.str_list("skip_tests") if "skip_tests" in reader.table else None,
        annotators_per_item=k,
        annotators=annotators,
        adjudicators=reader.str_list("adjudicators", default.adjudicators),
        labels=labels,
        tags=reader.str_list("tags", default.tags),
        audit_fraction=fraction,
        aggregation=reader.choice("aggregation", AGGREGATIONS, default.aggregation),
        guidelines=text,
        share_labels_with_teams=reader.get("share_labels_with_teams", bool, False),
        judges=judges,
        routing=routing,
        adaptive=adaptive,
        adaptive_posterior=posterior,
    )
    reader.finish()
    return result


def _parse_judges(evaluation: _Reader, base_dir: Path, source: Path | None) -> tuple[JudgeSpec, ...]:
    """``[[evaluation.judges]]``: each a name and exactly one of `python` (a class) or
    `url` + `model` (an OpenAI-compatible endpoint)."""
    entries = evaluation.get("judges", list, [], what="an array of tables ([[evaluation.judges]])")
    judges: list[JudgeSpec] = []
    for i, entry in enumerate(entries):
        reader = _Reader(entry, evaluation.key(f"judges[{i}]"), source)
        name = reader.name("name", BOT_NAME_MAX)
        if any(j.name == name for j in judges):
            raise reader.error("name", f"duplicate judge name {name!r}")
        ways = [k for k in ("python", "url") if k in reader.table]
        if len(ways) != 1:
            raise reader.error("", f"needs exactly one of python, url (has {' and '.join(ways) or 'none'})")
        python = reader.get("python", str, "")
        url = reader.get("url", str, "")
        model = reader.get("model", str, "")
        if python:
            _check_judge_spec(python, reader.key("python"), base_dir, source)
            target, _, cls = python.rpartition(":")
            if target.endswith(".py") and not Path(target).is_absolute():
                python = f"{(base_dir / target).resolve()}:{cls}"
        else:
            if not url.startswith(("http://", "https://")):
                raise reader.error("url", f"must start with http:// or https://; got {url!r}")
            if not model:
                raise reader.error("model", "is required for an endpoint judge")
        temperature = reader.get("temperature", float, 0.0)
        if not 0.0 <= temperature <= 2.0:
            raise reader.error("temperature", f"must be between 0 and 2; got {temperature}")
        seed = reader.get("seed", int, 0)
        judges.append(JudgeSpec(
            name=name, python=python, url=url.rstrip("/"), model=model,
            api_key_env=reader.get("api_key_env", str, None),
            rubric=reader.get("rubric", str, ""),
            temperature=temperature,
            max_tokens=reader.int_at_least("max_tokens", 16, 200),
            seed=seed,
            concurrency=reader.int_at_least("concurrency", 1, 4),
            retries=reader.int_at_least("retries", 0, 2),
            timeout=reader.positive("timeout", 60.0),
            workdir=str(base_dir.resolve()),
            json_mode=reader.get("json_mode", bool, True),
        ))
        reader.finish()
    return tuple(judges)


def _check_judge_spec(spec: str, key: str, base_dir: Path, source: Path | None) -> None:
    """A judge's `file.py:Class` or `module:Class`, checked like a bot's; a module may also
    be one only an import hook finds (an editable install, such as the bundled sample's):
    a judge is the organizer's code, so locating it with `importlib.util.find_spec`
    (which imports its parent packages) is allowed, as it is not for a team's bot."""
    target, sep, cls = spec.rpartition(":")
    if sep and target and not target.endswith(".py") and cls.isidentifier():
        found, _ = _module_source(target, [str(base_dir), *(p for p in sys.path if p)])
        if not found:
            try:
                module_spec = importlib.util.find_spec(target)
            except (ImportError, ValueError):
                module_spec = None
            if module_spec is None:
                raise ConfigError(key, f"module {target!r} not found next to the config or on the Python path", source)
            origin = module_spec.origin
            if origin and origin.endswith(".py"):
                problem = _class_problem(Path(origin), cls, "judge")
                if problem:
                    raise ConfigError(key, f"{target} {problem}", source)
            return
    _check_python_spec(spec, key, base_dir, {}, source, method="judge")


def _parse_routing(evaluation: _Reader, judges: tuple[JudgeSpec, ...], source: Path | None) -> RoutingSettings | None:
    """``[evaluation.routing]``: which judge may decide alone, and the bar it must clear."""
    table = evaluation.get("routing", dict, None)
    if table is None:
        return None
    reader = _Reader(table, evaluation.key("routing"), source)
    judge = reader.get("judge", str)
    if not any(j.name == judge for j in judges):
        raise reader.error("judge", f"names no judge of [[evaluation.judges]] ({', '.join(j.name for j in judges) or 'none'})")
    precision = reader.get("min_precision", float, 0.9)
    if not 0.5 <= precision <= 1.0:
        raise reader.error("min_precision", f"must be between 0.5 and 1; got {precision}")
    fraction = reader.get("calibration_fraction", float, 0.2)
    if not 0.0 < fraction <= 1.0:
        raise reader.error("calibration_fraction", f"must be above 0 and at most 1; got {fraction}")
    routing = RoutingSettings(judge=judge, min_precision=precision,
                              min_calibration=reader.int_at_least("min_calibration", 10, 50),
                              calibration_fraction=fraction)
    reader.finish()
    return routing


def _parse_utility(value: Any, base_dir: Path, limits: Limits, source: Path | None, isolation: str) -> UtilityConfig:
    reader = _Reader(value, "utility", source)
    sets = []
    for i, name in enumerate(reader.str_list("sets")):
        path = base_dir / name
        if not path.is_file():
            raise reader.error(f"sets[{i}]", f"file not found: {name}")
        sets.append(path)
    base = None
    if "base" in reader.table:
        base = parse_bot(reader.get("base", dict), "utility.base", "defender", base_dir, limits, source, isolation)
    timeout = reader.positive("timeout", 45.0)
    reader.finish()
    return UtilityConfig(sets=tuple(sets), base=base, timeout=timeout)


def parse_config(data: dict[str, Any], base_dir: Path, source: Path | None = None) -> TournamentConfig:
    """Validate a parsed TOML document; raise `ConfigError` on the first problem."""
    top = _Reader(data, "", source)
    name = top.name("name", NAME_MAX)
    kind = top.choice("kind", KINDS, "practice")
    per_matchup = top.int_at_least("conversations_per_matchup", 1)
    max_pairs = top.int_at_least("max_pairs", 1, 5)
    seed = top.get("seed", int, 0)
    concurrency = top.int_at_least("concurrency", 1, 8)
    timeout = top.positive("timeout", 45.0)
    limits = _limits(_Reader(top.get("limits", dict, {}), "limits", source), Limits())
    isolation = top.choice("isolation", ISOLATIONS, "auto")
    bots: dict[str, list[BotSpec]] = {}
    names: set[str] = set()
    for side_key, side in (("attackers", "attacker"), ("defenders", "defender")):
        entries = top.get(side_key, list, what=f"an array of tables ([[{side_key}]])")
        if not entries:
            raise top.error(side_key, "must list at least one bot")
        bots[side_key] = []
        for i, entry in enumerate(entries):
            bot = parse_bot(entry, f"{side_key}[{i}]", side, base_dir, limits, source, isolation)
            if bot.name in names:
                raise ConfigError(f"{side_key}[{i}].name", f"duplicate bot name {bot.name!r}", source)
            names.add(bot.name)
            bots[side_key].append(bot)
    evaluation = _parse_evaluation(top.get("evaluation", dict, {}), base_dir, source)
    utility = _parse_utility(top.get("utility", dict, {}), base_dir, limits, source, isolation)
    top.finish()
    return TournamentConfig(
        name=name,
        kind=kind,
        conversations_per_matchup=per_matchup,
        max_pairs=max_pairs,
        seed=seed,
        concurrency=concurrency,
        timeout=timeout,
        attackers=tuple(bots["attackers"]),
        defenders=tuple(bots["defenders"]),
        limits=limits,
        evaluation=evaluation,
        utility=utility,
        source=source,
        isolation=isolation,
    )


def load_config(path: str | Path) -> TournamentConfig:
    """Read and validate a TOML config file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config", f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("config", "is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"invalid TOML: {exc}", path) from None
    return parse_config(data, path.resolve().parent, path)
