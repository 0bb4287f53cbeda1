#!/usr/bin/env python
import os
import sys
from pathlib import Path


def load_dotenv(path: Path) -> None:
    """Load KEY=value lines from .env without overriding the real environment."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


if __name__ == "__main__":
    root = Path(__file__).resolve().parent
    sys.path.insert(0, str(root / "src"))
    load_dotenv(root / ".env")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studiocrm.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
