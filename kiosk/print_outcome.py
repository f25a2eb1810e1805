"""What became of one print request: printed, sent but not confirmed, or nothing sent.

Apart from ``printing`` so that the server, which only reads outcomes, does not load
python-escpos (about 10 MiB) at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

PRINTED, UNKNOWN = "printed", "unknown"
# Why a job's outcome is unknown: the printer cannot be asked, or did not answer.
CANNOT_ANSWER, NO_ANSWER = "printer_cannot_answer", "printer_no_answer"


@dataclass(frozen=True)
class PrintOutcome:
    """What became of one print request.

    ``printed`` is True only when the printer confirmed it read the whole job;
    ``sent`` when the bytes left for the device, confirmed or not (``unknown``
    says why not: ``printer_cannot_answer`` or ``printer_no_answer``);
    ``browser`` means the kiosk page is to print it; ``none`` printers print
    nothing at all.
    """

    printer: str
    kind: str
    printed: bool
    paper_low: bool = False
    sent: bool = False
    unknown: str | None = None

    @property
    def by_browser(self) -> bool:
        return self.kind == "browser"

    @property
    def status(self) -> str:
        """printed, unknown (sent, not confirmed) or none (nothing was sent)."""
        if self.printed:
            return PRINTED
        return UNKNOWN if self.sent else "none"
