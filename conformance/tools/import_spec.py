"""``python -m conformance import-spec SPEC.yaml``: the vendor contract, corrected by the overlay, into ``schemas/``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from conformance.spec import overlay as overlays
from conformance.spec import proofs
from conformance.spec.importer import Imported, build, write
from conformance.spec.openapi import Document, SpecError, load
from conformance.spec.schemas import SCHEMA_DIR, Contract

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
        help=f"corrections to apply (default: DIR/{DEFAULT_OVERLAY} when it exists); 'none' applies none",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the output would change")


def verify_proofs(document: Document, overlay: overlays.Overlay, imported: Imported) -> None:
    """Each action's proof holds with it and fails without it; a SpecError names the first that does not."""
    with_all = Contract.from_files(imported.files)
    for action in overlay.actions:
        if not action.proof:
            raise SpecError(f"overlay {action.label} has no x-proof: say what breaks without it")
        broken = proofs.holds(with_all, action.proof)
        if broken:
            raise SpecError(f"overlay {action.label}: its proof does not hold: {broken[0]}")
        try:
            without: Contract | None = Contract.from_files(build(document, overlay, skip_action=action.number).files)
        except SpecError:
            without = None  # another action needs this one: it clearly matters
        require_evidence(action, with_all, without)
        if without is not None and not proofs.holds(without, action.proof):
            raise SpecError(
                f"overlay {action.label}: its proof holds without it too, so it changes nothing observable; "
                "sharpen the proof or drop the action"
            )


def require_evidence(action: overlays.Action, with_all: Contract, without: Contract | None) -> None:
    """A correction that makes responses stricter rests on what the live service sends, not on prose."""
    if action.direction == "request" or action.observed:
        return
    stricter = proofs.response_tightening(with_all, without, action.proof)
    if stricter:
        raise SpecError(
            f"overlay {action.label} (x-direction {action.direction}) makes responses stricter "
            f"({stricter[0]} is now refused) without evidence: add x-observed (what the live service "
            "sends) or make it x-direction: request"
        )


def report(imported: Imported, overlay: overlays.Overlay | None, changed: list[str], *, check: bool) -> list[str]:
    index = imported.index
    source = index["source"]
    total, vendor = imported.pairs()
    components = sum(1 for path in imported.files if path.startswith("components/"))
    statuses = Counter(status for op in imported.operations.values() for status in op["responses"])
    lines = [
        f"imported {source['file']} (OpenAPI {source['openapi']}, version {source['version']}, "
        f"sha256 {source['sha256'][:12]})",
        f"  {len(imported.operations)} operations, {len(index['webhooks'])} webhook(s), {components} component schemas",
        f"  {total} operation/status pairs: {vendor} documented by the vendor, {total - vendor} added by the overlay",
        "  statuses: " + ", ".join(f"{status}x{count}" for status, count in sorted(statuses.items())),
    ]
    if overlay is None:
        lines.append("  overlay: none applied")
    else:
        lines.append(f"  overlay {overlay.name}: {len(imported.applied)} correction(s)")
        lines.extend(
            f"    - {a.action.description} [{a.matches} place(s): {a.action.target}]" for a in imported.applied
        )
    verb = "would change" if check else "changed"
    lines.append(f"  {verb}: {len(changed)} file(s)" + (": " + ", ".join(changed[:8]) if changed else ""))
    if len(changed) > 8:
        lines[-1] += f", … {len(changed) - 8} more"
    lines.append(f"  import hash {index['importHash'][:12]}")
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        document = load(args.spec)
        overlay_path = args.overlay
        if overlay_path is None and (args.out / DEFAULT_OVERLAY).is_file():
            overlay_path = args.out / DEFAULT_OVERLAY
        overlay = None if overlay_path is None or str(overlay_path) == "none" else overlays.load(overlay_path)
        imported = build(document, overlay)
        if overlay is not None:
            verify_proofs(document, overlay, imported)
        if args.out.exists() and not args.out.is_dir():
            raise SpecError(f"--out {args.out} is a file: give a folder")
    except SpecError as error:
        print(f"import-spec: error: {error}", file=sys.stderr)
        return 2
    if args.check:
        changed = [path for path, text in sorted(imported.files.items()) if _differs(args.out / path, text)]
    else:
        changed = write(imported, args.out)
    for line in report(imported, overlay, changed, check=args.check):
        print(line)
    return 1 if args.check and changed else 0


def _differs(path: Path, text: str) -> bool:
    return not path.is_file() or path.read_text(encoding="utf-8") != text
