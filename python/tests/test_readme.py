"""The README's "Use it from PyTorch" snippet runs as written."""

import os
import re

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def test_readme_pytorch_snippet_runs():
    text = open(README).read()
    section = text.split("## Use it from PyTorch", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "README: no python block under 'Use it from PyTorch'"
    exec(compile(blocks[0], "README.md (Use it from PyTorch)", "exec"), {})
