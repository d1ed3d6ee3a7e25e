from serving.server import cli


def test_raw_arguments_pass_through_the_dispatcher(monkeypatch):
    """Flags after ``serve`` reach the server untouched, even those argparse would reject."""
    from serving import cli as dispatcher

    seen = {}
    monkeypatch.setattr("serving.server.app.serve", lambda argv: seen.setdefault("argv", argv) and 0)
    assert cli.RAW_ARGS is True
    assert dispatcher.main(["serve", "--port=9000", "--unknown_flag=1", "--port", "9001"]) == 0
    assert seen["argv"] == ["--port=9000", "--unknown_flag=1", "--port", "9001"]
