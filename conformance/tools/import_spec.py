"""``python -m conformance import-spec SPEC.yaml``: the vendor contract, corrected by the overlay, into ``schemas/``.

The overlay is the project's corrections unless ``--overlay`` names another (or ``none``). An action
that no longer applies to SPEC (another release than the one the overlay was written for) is left out
and listed with its reason; ``--strict`` refuses it instead, as the project's own import does, so a
correction the vendor made needless is noticed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conformance.contract import overlay as overlays
from conformance.contract import proofs
from conformance.contract.importer import Imported, build, write
from conformance.contract.openapi import Document, SpecError, load
from conformance.contract.schemas import SCHEMA_DIR, Contract

DEFAULT_OVERLAY = "overlay.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="the vendor's OpenAPI 3.x file (YAML or JSON, local $refs only)")
    parser.add_argument(
        "--out", type=Path, default=SCHEMA_DIR, metavar="DIR", help="where to write (default: schemas/)"
    )
    parser.add_argument(
        "--overlay",
        type=Path,
        default=None,
        metavar="PATH",
        help=(
            f"corrections to apply (default: DIR/{DEFAULT_OVERLAY} when it exists, else the project's own); "
            "'none' applies none"
        ),
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse an overlay action that no longer applies (the project's own import) instead of leaving it out",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the output would change")


@dataclass(frozen=True)
class ProofProblem:
    action: overlays.Action
    why: str  # e.g. "its proof does not hold: ..."
    on_this_spec: bool  # about the spec at hand (another release), not about the overlay entry itself
    message: str = ""  # the whole line, when it reads otherwise than "overlay <action>: <why>"

    def __str__(self) -> str:
        return self.message or f"overlay {self.action.label}: {self.why}"


def verify_proofs(
    document: Document, overlay: overlays.Overlay, imported: Imported, *, strict: bool = True
) -> list[ProofProblem]:
    """Each applied action's proof holds with it and fails without it, and a tightening has evidence.

    A SpecError names the first that does not. Not ``strict`` (another release than the overlay was
    written for), a proof that does not hold on this spec is returned as a note and the action stays
    applied; an overlay entry without a proof or without its evidence is refused either way.
    """
    notes: list[ProofProblem] = []
    for problem in proof_problems(document, overlay, imported):
        if strict or not problem.on_this_spec:
            raise SpecError(str(problem))
        notes.append(problem)
    return notes


def proof_problems(document: Document, overlay: overlays.Overlay, imported: Imported) -> Iterator[ProofProblem]:
    """Each applied action whose proof is missing, does not hold with it or holds without it, or
    whose tightening of responses has no evidence."""
    with_all = Contract.from_files(imported.files)
    # Without one action, the others are imported as the whole import was: leniently if it left any out.
    strict = not imported.stale
    for action in (applied.action for applied in imported.applied):
        if not action.proof:
            why = "it has no x-proof: say what breaks without it"
            yield ProofProblem(action, why, False, f"overlay {action.label} has no x-proof: say what breaks without it")
            continue
        broken = proofs.holds(with_all, action.proof)
        if broken:
            yield ProofProblem(action, f"its proof does not hold: {broken[0]}", True)
            continue
        try:
            without: Contract | None = Contract.from_files(
                build(document, overlay, skip_action=action.number, strict=strict).files
            )
        except SpecError:
            without = None  # another action needs this one: it clearly matters
        stricter = missing_evidence(action, with_all, without)
        if stricter:
            yield ProofProblem(
                action, stricter, False, f"overlay {action.label} (x-direction {action.direction}) {stricter}"
            )
            continue
        if without is not None and not proofs.holds(without, action.proof):
            why = (
                "its proof holds without it too, so it changes nothing observable; sharpen the proof or drop the action"
            )
            yield ProofProblem(action, why, True)


def missing_evidence(action: overlays.Action, with_all: Contract, without: Contract | None) -> str | None:
    """A correction that makes responses stricter rests on what the live service sends, not on prose."""
    if action.direction == "request" or action.observed:
        return None
    stricter = proofs.response_tightening(with_all, without, action.proof)
    if not stricter:
        return None
    return (
        f"makes responses stricter ({stricter[0]} is now refused) without evidence: add x-observed "
        "(what the live service sends) or make it x-direction: request"
    )


def report(
    imported: Imported,
    overlay: overlays.Overlay | None,
    changed: list[str],
    *,
    check: bool,
    spec_name: str = "the spec",
    overlay_label: str = "",
    notes: list[ProofProblem] | None = None,
) -> list[str]:
    """What the import did, for the terminal: the spec, the counts, each correction applied or left out."""
    index = imported.index
    source = index["source"]
    total, vendor = imported.pairs()
    components = sum(1 for path in imported.files if path.startswith("components/"))
    statuses = Counter(status for op in imported.operations.values() for status in op["responses"])
    lines = [
        f"imported {spec_name} (OpenAPI {source['openapi']}, version {source['version']}, "
        f"sha256 {source['sha256'][:12]})",
        f"  {len(imported.operations)} operations, {len(index['webhooks'])} webhook(s), {components} component schemas",
        f"  {total} operation/status pairs: {vendor} documented by the vendor, {total - vendor} added by the overlay",
        "  statuses: " + ", ".join(f"{status}x{count}" for status, count in sorted(statuses.items())),
    ]
    if overlay is None:
        lines.append("  overlay: none applied")
    else:
        lines.append(f"  overlay {overlay_label or overlay.name}: {len(imported.applied)} correction(s)")
        lines.extend(
            f"    - {a.action.description} [{a.matches} place(s): {a.action.target}]" for a in imported.applied
        )
        if imported.stale:
            lines.append(f"  left out: {len(imported.stale)} overlay action(s) that no longer apply to this spec")
            lines.extend(
                f"    - action {s.action.number}: {s.action.description} [{s.why}: {s.action.target}]"
                for s in imported.stale
            )
        if notes:
            lines.append(f"  applied, but their proofs (written for another release) do not hold here: {len(notes)}")
            lines.extend(f"    - action {n.action.number}: {n.action.description} [{n.why}]" for n in notes)
    verb = "would change" if check else "changed"
    lines.append(f"  {verb}: {len(changed)} file(s)" + (": " + ", ".join(changed[:8]) if changed else ""))
    if len(changed) > 8:
        lines[-1] += f", … {len(changed) - 8} more"
    lines.append(f"  import hash {index['importHash'][:12]}")
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        document = load(args.spec)
        overlay_path = None if str(args.overlay) == "none" else args.overlay or default_overlay(args.out)
        overlay = None if overlay_path is None else overlays.load(overlay_path)
        imported = build(document, overlay, strict=args.strict)
        notes = verify_proofs(document, overlay, imported, strict=args.strict) if overlay is not None else []
        if args.out.exists() and not args.out.is_dir():
            raise SpecError(f"--out {args.out} is a file: give a folder")
    except SpecError as error:
        print(f"import-spec: error: {error}", file=sys.stderr)
        return 2
    if args.check:
        changed = [path for path, text in sorted(imported.files.items()) if _differs(args.out / path, text)]
    else:
        changed = write(imported, args.out)
    label = f"{overlay_path}"
    if args.overlay is None and overlay_path is not None:
        project = overlay_path.resolve() == (SCHEMA_DIR / DEFAULT_OVERLAY).resolve()
        label += " (the project's corrections, by default)" if project else " (beside the output, by default)"
    lines = report(
        imported, overlay, changed, check=args.check, spec_name=document.name, overlay_label=label, notes=notes
    )
    print("\n".join(lines))
    return 1 if args.check and changed else 0


def default_overlay(out: Path) -> Path:
    """The overlay beside the output when it has one (the project's schemas/), else the project's own."""
    beside = out / DEFAULT_OVERLAY
    return beside if beside.is_file() else SCHEMA_DIR / DEFAULT_OVERLAY


def _differs(path: Path, text: str) -> bool:
    return not path.is_file() or path.read_text(encoding="utf-8") != text
