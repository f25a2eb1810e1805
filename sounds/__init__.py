"""Vietnamese announcements: number words, voices, clip cache, chime (issue 4; docs/sounds.md).

Nothing here imports the network voice: gTTS is loaded only by ``xephang sounds build``.
"""

from .announce import DEFAULT_TEMPLATE, announcement_text
from .cache import SoundCache, default_sounds_dir
from .compose import Announcement, announcement_ready, compose
from .status import sound_status
from .vietnamese import ReadingOptions, code_to_words, number_to_words

__all__ = [
    "DEFAULT_TEMPLATE",
    "Announcement",
    "ReadingOptions",
    "SoundCache",
    "announcement_ready",
    "announcement_text",
    "code_to_words",
    "compose",
    "default_sounds_dir",
    "number_to_words",
    "sound_status",
]
