"""Reading the YAML files a user writes (tracker configs, ``datasets/paths.yaml``): a mistake in one is told
in one line naming the file and the line, never as a parser's traceback."""
from pathlib import Path

import yaml


def read_yaml_mapping(path) -> dict:
    """The mapping ``path`` holds (empty for an empty file); a ``ValueError`` naming the file and the line
    where it is not valid YAML, or naming the file where it holds something other than a mapping."""
    path = Path(path)
    try:
        with open(path, "r", encoding="utf-8") as f:
            content = yaml.safe_load(f)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ValueError(f"{path}{where}: not valid YAML ({problem})") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected 'setting: value' lines (a mapping), got a {type(content).__name__}")
    return content
