"""A terminal progress bar for jobs: one tqdm bar per phase."""

from tqdm import tqdm


class PhaseBars:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bar = None
        self.message = None

    def __call__(self, done: int, total: int, message: str) -> None:
        if message != self.message:
            self.close()
            self.message = message
            self.bar = tqdm(total=total, desc=message, disable=None if self.enabled else True, leave=True)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
