# expect: safe deserialization
import base64
import json

from django.http import JsonResponse


def restore(request):
    blob = base64.urlsafe_b64decode(request.COOKIES["cart"])
    cart = json.loads(blob)
    return JsonResponse({"items": len(cart)})
