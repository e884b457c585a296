from django.conf import settings


def client_ip(request):
    """The visitor's address for rate limits. Behind a reverse proxy (BEHIND_PROXY=1) every request comes from the
    proxy, so the address it passes in X-Real-IP is used; without a proxy that header could be forged and is ignored."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")
