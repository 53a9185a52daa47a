"""Meta's webhook endpoint: verify, store, acknowledge. Processing happens in a task."""
from django.http import HttpResponse
from django.views import View


class WhatsAppWebhookView(View):
    def get(self, request):
        return HttpResponse(status=403)
