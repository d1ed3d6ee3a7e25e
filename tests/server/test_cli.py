import argparse

from serving.server import cli


def test_raw_arguments_pass_through_the_dispatcher_parser():
    parser = argparse.ArgumentParser(prog="plantserve")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_arguments(sub.add_parser("serve"))
    args = parser.parse_args(["serve", "--port=9000", "--unknown_flag=1", "--port", "9001"])
    assert args.command == "serve"
    assert args.serve_argv == ["--port=9000", "--unknown_flag=1", "--port", "9001"]
