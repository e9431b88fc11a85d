"""The dataset card (README.md) written with every export, beside the exported files.

One card per folder describes every set exported into it: each export is one Hugging
Face ``datasets`` config named after its file (``train.jsonl`` → config ``train``, split
``train``), so ``load_dataset(FOLDER, "train")`` and ``load_dataset(FOLDER,
"preference")`` load the sets a folder holds. The configs read the Parquet files (typed
columns) when every set in the folder has one, else the JSONL files: `datasets` reads one
file format per folder.

For each set the card gives the filters and options, the counts (written, dropped by
reason), the label sources (what decided each verdict), the pairs by chosen source, the
tournaments, the annotators' agreement (Fleiss' κ and Krippendorff's α with 95 %
bootstrap intervals) and the prompts' licence as the organizer stated it.

The card is rewritten by each export into the folder, from a machine-readable state it
keeps in an HTML comment (so earlier sets stay described while their files exist). A
README.md the export did not write (no such state) is never overwritten: the export
refuses before writing anything. Names (tournaments, bots, a system prompt) are hostile
text and appear as inert markdown (`core.text.markdown_text`).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.data.files import ExportError, atomic_writer
from core.text import markdown_text

if TYPE_CHECKING:
    from core.data.export import ExportFilters, ExportOptions, ExportSummary
    from core.store import Store

CARD_NAME = "README.md"
_STATE = re.compile(r"<!-- arena-tui dataset card state: (\{.*?\}) -->", re.DOTALL)
CARD_VERSION = 1
# Bootstrap resamples for the agreement intervals in the card (the report's default).
AGREEMENT_RESAMPLES = 1000

REASON_TEXT = {
    "vulnerable_code": "static stage: bandit flagged a defender reply under the threshold (no human review)",
    "annotators": "annotators' majority",
    "adjudicated": "an adjudicator",
    "dawid_skene": "Dawid-Skene over the annotators' labels",
    "awaiting_labels": "undecided: awaiting labels",
    "tie": "undecided: annotators tied",
    "not_evaluated": "undecided: never evaluated",
    "judge": "a judge (a machine annotator) where its measured trust clears the bar",
    "awaiting_calibration": "undecided: awaiting the judge's calibration",
    "awaiting_judge": "undecided: awaiting the judge",
    "awaiting_another_label": "undecided: the first annotators disagreed, one more is asked",
}
SOURCE_TEXT = {
    "annotator": "a safe reply an annotator wrote for that turn",
    "held_defender": "the reply of a defender that held against the same prompt",
}
FORMAT_TEXT = {
    "chat-jsonl": "supervised fine-tuning chats (`messages`, the defender is `assistant`)",
    "jsonl": "native transcripts (`turns` with attacker/defender roles)",
    "preference": "preference pairs in TRL's `prompt`/`chosen`/`rejected` format",
}


def card_path(folder: Path) -> Path:
    """Where the card of an export into `folder` goes."""
    return folder / CARD_NAME


def read_state(folder: Path) -> dict[str, Any] | None:
    """The state of the card in `folder` ({"sets": {...}}): empty when there is no card,
    None when there is a README.md the export did not write."""
    path = card_path(folder)
    if not path.exists():
        return {"version": CARD_VERSION, "sets": {}}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = _STATE.search(text)
    if match is None:
        return None
    try:
        state = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) and isinstance(state.get("sets"), dict) else None


_CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _variable(name: str) -> str:
    variable = re.sub(r"\W", "_", name)
    return variable if variable.isidentifier() else f"set_{variable}"


def check_config_name(out: Path) -> None:
    """Refuse an output file whose name cannot name a dataset config (ExportError)."""
    if not _CONFIG_NAME.fullmatch(out.stem):
        raise ExportError(f"the file name {out.name!r} names the set's config in the dataset card: use letters, digits, "
                          "'.', '_' or '-' (at most 64), starting with a letter or digit")


_LICENSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")


def check_license(license_id: str | None) -> None:
    """Refuse a licence that is not an identifier such as ``mit`` or ``cc-by-4.0`` (ExportError)."""
    if license_id is not None and not _LICENSE.fullmatch(license_id):
        raise ExportError(f"--license {license_id!r} is not a licence identifier (an SPDX id such as mit, apache-2.0 "
                          "or cc-by-4.0; other or unknown)")


def check_folder(folder: Path) -> None:
    """Refuse (ExportError, one line) to export into a folder whose README.md the export
    did not write: the card would have to overwrite it."""
    if read_state(folder) is None:
        raise ExportError(f"{card_path(folder)} was not written by arena-tui export and is kept: export into another "
                          "folder, or pass --no-card")


def _estimate(value: Any) -> list[float] | None:
    if value is None or math.isnan(value.value):
        return None
    return [round(value.value, 4), round(value.low, 4), round(value.high, 4)]


def set_entry(store: Store, tournament_ids: Sequence[int], out: Path, fmt: str, filters: ExportFilters,
              options: ExportOptions, summary: ExportSummary, *, license_id: str | None,
              filter_specs: Sequence[str]) -> dict[str, Any]:
    """What the card records about one export (JSON-ready)."""
    from core.evaluation.pipeline import agreement

    tournaments = [t for t in store.tournaments() if t.id in set(tournament_ids)
                   and (filters.kind is None or t.kind == filters.kind)]
    agreement_rows = []
    for t in tournaments:
        report = agreement(store, t.id, resamples=AGREEMENT_RESAMPLES)
        agreement_rows.append({"tournament": t.name, "items": report.items,
                               "fleiss_kappa": _estimate(report.fleiss_kappa),
                               "krippendorff_alpha": _estimate(report.krippendorff_alpha)})
    files = [out.name] + ([out.with_suffix(".parquet").name] if options.parquet else [])
    return {
        "config": out.stem, "format": fmt, "files": files,
        "filters": list(filter_specs) or ["complete-only"], "include_undecided": filters.include_undecided,
        "system_prompt": options.system_prompt, "drop_trailing_attacker": options.drop_trailing_attacker,
        "dedup_threshold": options.dedup_threshold,
        "considered": summary.considered, "written": summary.written, "decided": summary.decided,
        "undecided": summary.undecided, "dropped": dict(sorted(summary.dropped.items())),
        "reasons": dict(sorted(summary.reasons.items())), "chosen_sources": dict(sorted(summary.chosen_sources.items())),
        "tournaments": [{"name": t.name, "kind": t.kind} for t in tournaments],
        "agreement": agreement_rows, "license": license_id, "exported_at": round(time.time(), 3),
    }


def write_card(folder: Path, entry: dict[str, Any]) -> Path:
    """Add (or replace) one set in the folder's card and rewrite it atomically; sets whose
    files are gone are left out. Refuses a README.md the export did not write."""
    state = read_state(folder)
    if state is None:
        check_folder(folder)
    assert state is not None
    sets = {name: s for name, s in state["sets"].items()
            if name != entry["config"] and all((folder / f).exists() for f in s.get("files", []))}
    sets[entry["config"]] = entry
    state = {"version": CARD_VERSION, "sets": dict(sorted(sets.items())), "license": entry.get("license")
             or state.get("license")}
    path = card_path(folder)
    with atomic_writer(path) as fh:
        fh.write(render(state))
    return path


def use_parquet(sets: dict[str, dict[str, Any]]) -> bool:
    """Whether the configs read Parquet: only when every set in the folder has a Parquet
    file, because `datasets` picks one file format for a whole folder (a JSONL config
    beside a Parquet one would be read as Parquet and fail)."""
    return bool(sets) and all(any(f.endswith(".parquet") for f in s["files"]) for s in sets.values())


def data_file(entry: dict[str, Any], parquet: bool) -> str:
    """The file a set's config reads: its Parquet file or its JSONL."""
    wanted = ".parquet" if parquet else ".jsonl"
    return next((f for f in entry["files"] if f.endswith(wanted)), entry["files"][0])


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)  # a JSON string is a YAML double-quoted scalar


def _fmt(estimate: list[float] | None) -> str:
    return "–" if estimate is None else f"{estimate[0]:.3f} [{estimate[1]:.3f}, {estimate[2]:.3f}]"


def render(state: dict[str, Any]) -> str:
    """The card's markdown: YAML front matter (licence, configs) then one section per set."""
    license_id = state.get("license") or "unknown"
    sets: dict[str, dict[str, Any]] = state["sets"]
    lines = ["---", f"license: {_yaml_string(license_id)}", "pretty_name: Adversarial Arena conversations",
             "task_categories:", "- text-generation", "tags:", "- adversarial", "- red-teaming", "- cybersecurity",
             "- safety"]
    # An empty set is no config: `datasets` cannot load a file without records.
    loadable = {name: s for name, s in sets.items() if s["written"] > 0}
    parquet = use_parquet(loadable)
    lines += ["configs:"] if loadable else []
    for name, s in loadable.items():
        lines += [f"- config_name: {_yaml_string(name)}", "  data_files:", "  - split: train",
                  f"    path: {_yaml_string(data_file(s, parquet))}"]
    lines += ["---", "", "<!-- arena-tui dataset card: rewritten by each `arena-tui export` into this folder. -->", "",
              "# Adversarial Arena conversations", "",
              "Multi-turn adversarial conversations from attacker-vs-defender tournaments run with "
              "Adversarial Arena (`arena-tui`): attacker bots try to "
              "make defender bots write insecure or malicious code or help with cyber attacks; a static analyser "
              "(bandit) and human annotators decide each conversation.", "", "## Loading", "", "```python",
              "from datasets import load_dataset", ""]
    for name in loadable:
        lines.append(f"{_variable(name)} = load_dataset(\"path/to/this/folder\", {json.dumps(name)}, split=\"train\")")
    lines += ["```", "", "## Licence", "",
              f"Licence of the prompts, as the organizer stated it at export: **{markdown_text(license_id)}**"
              + ("" if license_id != "unknown" else " (not stated: pass `--license` to `arena-tui export`)") + ". "
              "The conversations were written by the teams' bots; the teams' own terms apply to their replies.", ""]
    for name, s in sets.items():
        lines += _set_section(name, s)
    if any(s["format"] == "preference" for s in sets.values()):
        lines += ["## How the preference pairs are built", "",
                  "- **rejected**: the defender reply where an attack landed: for a static-stage success the first "
                  "reply bandit flagged under the threshold; for a human verdict the turn the annotators marked (an "
                  "adjudicator's mark first, else the turn most attack-labelling annotators marked, the earliest on a "
                  "tie). An attack success with no marked turn gives no pair.",
                  "- **prompt**: every message before that reply, so both replies answer the same prompt.",
                  "- **chosen**: a safe reply an annotator wrote for that turn; else the reply of a defender that "
                  "held against exactly the same prompt (a conversation people judged not an attack, no label tagged "
                  "malicious, no bandit finding in that reply). No such reply: no pair.", ""]
    # "<" and ">" escaped, so no text in the state can close the comment early.
    state_json = json.dumps(state, ensure_ascii=True, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")
    lines += [f"<!-- arena-tui dataset card state: {state_json} -->", ""]
    return "\n".join(lines)


def _set_section(name: str, s: dict[str, Any]) -> list[str]:
    pairs = s["format"] == "preference"
    unit = "pairs" if pairs else "conversations"
    files = ", ".join(markdown_text(f) for f in s["files"])
    lines = [f"## {markdown_text(name)}: {FORMAT_TEXT.get(s['format'], '')}", "",
             f"Files: {files} (config {markdown_text(name)}, split train)." if s["written"] else
             f"Files: {files} (no records, so no config to load).", ""]
    if pairs:
        lines.append(f"- {s['written']} pairs from {s['considered']} attack successes")
    else:
        lines.append(f"- {s['written']} of {s['considered']} conversations: {s['decided']} decided, "
                     f"{s['undecided']} undecided (no verdict: nobody reviewed them)")
    lines.append(f"- filters: {', '.join(markdown_text(f) for f in s['filters'])}"
                 + ("; undecided conversations included" if s.get("include_undecided") else
                    ("" if pairs else "; decided conversations only")))
    if s.get("system_prompt"):
        lines.append(f"- system prompt first in every chat: {markdown_text(s['system_prompt'])}")
    if s.get("drop_trailing_attacker"):
        lines.append("- a trailing attacker turn is dropped: every chat ends on the defender's reply")
    if s.get("dedup_threshold") is not None:
        lines.append(f"- near-duplicate removal: MinHash over word 3-grams, Jaccard ≥ {s['dedup_threshold']}: "
                     f"{s['dropped'].get('near-duplicate', 0)} {unit} dropped (the first of each group kept)")
    else:
        lines.append("- near-duplicate removal: off")
    lines.append("")
    if s["dropped"]:
        lines += ["| dropped because | count |", "|---|---|"]
        lines += [f"| {markdown_text(why)} | {n} |" for why, n in s["dropped"].items()]
        lines.append("")
    if s["reasons"]:
        lines += ["| label source (what decided the verdict) | " + unit + " |", "|---|---|"]
        lines += [f"| {markdown_text(r)}: {REASON_TEXT.get(r, '')} | {n} |" for r, n in s["reasons"].items()]
        lines.append("")
    if pairs:
        lines += ["| chosen reply | pairs |", "|---|---|"]
        lines += [f"| {markdown_text(source)}: {text} | {s['chosen_sources'].get(source, 0)} |"
                  for source, text in SOURCE_TEXT.items()]
        lines.append("")
    lines += ["| tournament | kind | annotated items | Fleiss' κ [95 % CI] | Krippendorff's α [95 % CI] |",
              "|---|---|---|---|---|"]
    kinds = {t["name"]: t["kind"] for t in s["tournaments"]}
    for a in s["agreement"]:
        lines.append(f"| {markdown_text(a['tournament'])} | {kinds.get(a['tournament'], '')} | {a['items']} | "
                     f"{_fmt(a['fleiss_kappa'])} | {_fmt(a['krippendorff_alpha'])} |")
    lines += ["", "Agreement is among the annotators' current labels (adjudicators excluded), with 95 % bootstrap "
              "intervals over items; – where fewer than two annotators labelled an item.", ""]
    return lines
