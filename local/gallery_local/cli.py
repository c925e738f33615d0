"""The `gallery` command: the local stack and operator tools."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _paths() -> None:
    """The layer and the engine are separate deployables; the CLI runs them from the checkout."""
    root = Path(__file__).resolve().parents[2]
    for p in (root / "layers" / "gallery" / "python", root / "containers" / "face"):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))


_paths()
from gallery import THEMES  # noqa: E402
from gallery.visits import DONE, REJECTED  # noqa: E402


def _demo(args: argparse.Namespace) -> int:
    from gallery_local import demo

    if args.photo:
        jobs = [demo.Job(Path(args.photo), args.display, args.theme)]
    else:
        jobs = demo.bundled_jobs()
    print(f"Starting the local stack and sending {len(jobs)} visit(s) through it...", file=sys.stderr, flush=True)
    details: list[dict] = []
    visits = demo.run(jobs, Path(args.out), concurrent=args.concurrent, details=details)
    if args.json:
        for d in details:
            print(json.dumps(d, ensure_ascii=False, default=str))
    else:
        print(demo.table(details))
        print(f"\nResult images: {Path(args.out).resolve()}")
    return 0 if all(v.status in (DONE, REJECTED) for v in visits) else 1


def _swap(args: argparse.Namespace) -> int:
    from gallery_local import swap_preview

    return swap_preview.main(Path(args.photo), Path(args.portrait), args.theme, Path(args.output))


def _serve(args: argparse.Namespace) -> int:
    from gallery_local import serve

    return serve.run(args.port, args.aws_stack, args.write_config)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gallery", description="Past-Life Gallery: local stack and operator tools.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run visitor photos through the whole pipeline on the local stack")
    d.add_argument("--photo", help="one photo of your choosing (default: the bundled sample visitors)")
    d.add_argument("--theme", choices=THEMES, default="painting", help="theme for --photo")
    d.add_argument("--display", type=int, default=1, help="display for --photo")
    d.add_argument("--out", default="out", help="where result PNGs go (default: out/)")
    d.add_argument("--concurrent", action="store_true", help="send the visits at the same time")
    d.add_argument("--json", action="store_true", help="print one JSON object per visit instead of a table")
    d.set_defaults(func=_demo)

    s = sub.add_parser("swap", help="preview the face engine on one photo and portrait")
    s.add_argument("photo")
    s.add_argument("portrait")
    s.add_argument("--theme", choices=THEMES, default="painting")
    s.add_argument("-o", "--output", required=True, help="result PNG")
    s.set_defaults(func=_swap)

    v = sub.add_parser("serve", help="serve the tablet, wall, admin and visitor pages on the local stack")
    v.add_argument("--port", type=int, default=8000, help="port of the pages on 127.0.0.1 (default: 8000)")
    v.add_argument("--aws-stack", help="use this deployed stack's Outputs instead of the local stack")
    v.add_argument("--write-config", metavar="FILE", help="with --aws-stack: write the pages' config.json and exit")
    v.set_defaults(func=_serve)

    from gallery_local import catalog_cli

    catalog_cli.add_parser(sub, THEMES)
    from gallery_local import event_cli

    event_cli.add_parser(sub)
    from gallery_local import loadtest

    loadtest.add_parser(sub)
    from gallery_local import dlq_cli

    dlq_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
