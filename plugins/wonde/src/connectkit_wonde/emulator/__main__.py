"""``python -m connectkit_wonde.emulator``: serve the emulator on a loopback port."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from connectkit_wonde.emulator.app import WondeEmulator
from connectkit_wonde.emulator.data import School
from connectkit_wonde.emulator.server import serve_forever
from connectkit_wonde.emulator.state import DEFAULT_SCHOOL, DEFAULT_TOKEN, EmulatorState


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a Wonde-compatible emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--school-id", default=DEFAULT_SCHOOL)
    parser.add_argument("--students", type=int, default=120)
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--leavers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--deleted-every", type=int, default=40, help="every Nth student is deleted (0: none)"
    )
    parser.add_argument("--pending", action="store_true", help="start with access pending")
    parser.add_argument(
        "--token-env",
        default="WONDE_EMULATOR_TOKEN",
        help="environment variable holding the accepted token (default token if unset)",
    )
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> WondeEmulator:
    state = EmulatorState(token=os.environ.get(args.token_env, DEFAULT_TOKEN))
    state.schools.clear()
    state.add_school(
        School(
            id=args.school_id,
            name="Emulated Academy",
            seed=args.seed,
            students=args.students,
            staff=args.staff,
            leavers=args.leavers,
            deleted_every=args.deleted_every,
            access="pending" if args.pending else "approved",
        )
    )
    return WondeEmulator(state)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("uvicorn") is None:
        print(
            "the emulator needs uvicorn: pip install 'connectkit-wonde[emulator]'", file=sys.stderr
        )
        return 2
    url = f"http://{args.host}:{args.port}/v1.0"
    print(f"Wonde emulator on {url} (school {args.school_id})", flush=True)
    serve_forever(build(args), args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
