"""``Server-Timing: app;dur=<ms>`` on every response: the time Django spent, for clients and benchmarks."""

import time


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration = (time.perf_counter() - started) * 1000
        existing = response.get("Server-Timing")
        timing = f"app;dur={duration:.2f}"
        response["Server-Timing"] = f"{timing}, {existing}" if existing else timing
        return response
