# Type stub for the `dockerfile` package (3.4.0), a compiled extension that ships no stubs.
# Why: mypy cannot see into the extension; this declares the part dlaas_gen uses, as the
# package's own README and `dockerfile.Command._fields` describe it.
from typing import NamedTuple

class Heredoc(NamedTuple):
    name: str
    file_descriptor: int
    content: str

class Command(NamedTuple):
    cmd: str
    sub_cmd: str | None
    json: bool
    original: str
    start_line: int
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]
    heredocs: tuple[Heredoc, ...]

class GoIOError(OSError): ...
class GoParseError(ValueError): ...

def all_cmds() -> tuple[str, ...]: ...

def parse_file(filename: str) -> tuple[Command, ...]: ...
def parse_string(s: str) -> tuple[Command, ...]: ...
