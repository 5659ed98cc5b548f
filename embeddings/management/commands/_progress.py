"""A terminal progress bar for jobs: one tqdm bar per phase, the phase's detail (chunks, workers) beside it."""

from tqdm import tqdm


class PhaseBars:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bar = None
        self.message = None
        self.detail = ""

    def __call__(self, done: int, total: int, message: str, detail: str = "") -> None:
        if message != self.message:
            self.close()
            self.message = message
            self.bar = tqdm(total=total, desc=message, disable=None if self.enabled else True, leave=True)
            self.detail = ""
        self.bar.total = total
        if detail != self.detail:
            self.detail = detail
            self.bar.set_postfix_str(detail, refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
