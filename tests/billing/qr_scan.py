"""Reading payment QR codes back from what a client would scan: a browser screenshot or
the invoice PDF rendered to an image, decoded by zbar (``zbarimg`` from Debian's
``zbar-tools``, installed by ``scripts/system_deps.sh``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# Missing tools fail the tests loudly: `make test` installs them (scripts/system_deps.sh).
ZBARIMG = shutil.which("zbarimg") or "zbarimg"
PDFTOPPM = shutil.which("pdftoppm") or "pdftoppm"


def decode_qr(image: bytes | Path) -> list[str]:
    """Every QR code zbar finds in a PNG image, as text (UTF-8, byte for byte)."""
    with tempfile.TemporaryDirectory() as folder:
        path = image if isinstance(image, Path) else Path(folder) / "image.png"
        if not isinstance(image, Path):
            path.write_bytes(image)
        # -Sbinary: the raw bytes, not zbar's guess at a character set. zbar ends each code
        # with a newline; an EPC payload has newlines of its own, so a page must hold one.
        result = subprocess.run(  # noqa: S603 - a fixed tool on a file we wrote
            [ZBARIMG, "--quiet", "--raw", "-Sbinary", "--nodbus", str(path)],
            capture_output=True,
            timeout=60,
            check=False,
        )
    if result.returncode == 4:  # no code found
        return []
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return [result.stdout.decode("utf-8").removesuffix("\n")] if result.stdout else []


def pdf_page_png(pdf: bytes, *, dpi: int = 150, page: int = 1) -> bytes:
    """One page of a PDF as PNG, the way poppler prints it."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(pdf)
        subprocess.run(  # noqa: S603 - a fixed tool on a file we wrote
            [
                PDFTOPPM,
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(source),
                str(Path(folder) / "page"),
            ],
            check=True,
            timeout=120,
        )
        return (Path(folder) / "page.png").read_bytes()
