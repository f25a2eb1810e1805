"""espeak-ng's Vietnamese voice: offline, from the Debian package ``espeak-ng``.

It needs no network and renders a clip in tens of milliseconds, so besides filling the cache
ahead of time it is the one voice allowed to render a missing clip while a call waits.
"""

from __future__ import annotations

import shutil
import subprocess

from . import VoiceError

PROGRAM = "espeak-ng"


def espeak_available() -> bool:
    return shutil.which(PROGRAM) is not None


class EspeakVoice:
    """``espeak-ng -v vi``: WAV on standard output, the text on standard input."""

    name = "espeak"
    offline = True

    def __init__(self, language: str = "vi", words_per_minute: int = 150) -> None:
        self.language = language
        self.words_per_minute = words_per_minute

    def render(self, text: str) -> bytes:
        program = shutil.which(PROGRAM)
        if program is None:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
        command = [program, "-v", self.language, "-s", str(self.words_per_minute)]
        try:
            done = subprocess.run(
                [*command, "--stdin", "--stdout"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise VoiceError(f"espeak-ng failed: {err}") from err
        if done.returncode != 0 or len(done.stdout) <= 44:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise VoiceError(f"espeak-ng made no audio for {text!r}: {message}")
        return done.stdout
