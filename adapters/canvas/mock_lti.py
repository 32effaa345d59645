"""Canvas's LTI Advantage side, for the Canvas mock: the mock LTI platform with Canvas's ways.

:class:`CanvasLti` is the shared :class:`~lmsbridge.conformance.lti.MockLtiPlatform` set up as
Canvas answers: issuer ``https://canvas.instructure.com``, a score not newer than the held one
refused with 400 "Provided timestamp of … before last updated timestamp of …", ``scoreGiven``
without ``scoreMaximum`` refused with 422, and NRPS pages of at most 50 members. It never
listens itself: :class:`~lmsbridge.adapters.canvas.mock.CanvasMock` serves its routes on its
own port (so one fault set covers REST and LTI) and lends it its URL.
"""

from __future__ import annotations

from collections.abc import Callable

from lmsbridge.conformance.lti import MockLtiPlatform

ISSUER = "https://canvas.instructure.com"
#: Canvas's largest NRPS (and line item) page.
MAX_PAGE = 50
#: Canvas's page when the tool asks for no limit.
DEFAULT_PAGE = 10
#: Canvas's AGS submission extension on scores.
SUBMISSION_CLAIM = "https://canvas.instructure.com/lti/submission"


class CanvasLti(MockLtiPlatform):
    name = "canvas-lti"

    def __init__(self, host_url: Callable[[], str], cap: Callable[[], int]) -> None:
        self._host_url, self._cap = host_url, cap
        super().__init__(issuer=ISSUER, stale_score_style="canvas")

    @property  # type: ignore[override]
    def url(self) -> str:
        return self._host_url()

    @property
    def running(self) -> bool:  # type: ignore[override]
        try:
            self._host_url()
        except RuntimeError:
            return False
        return True

    # The suite lowers the host's max_page_size; Canvas's own cap holds otherwise.
    @property  # type: ignore[override]
    def max_page_size(self) -> int:
        return min(MAX_PAGE, self._cap())

    @max_page_size.setter
    def max_page_size(self, value: int) -> None:
        pass  # fixed by Canvas (MAX_PAGE) and the host mock

    @property  # type: ignore[override]
    def page_size(self) -> int:
        return min(DEFAULT_PAGE, self._cap())

    @page_size.setter
    def page_size(self, value: int) -> None:
        pass
